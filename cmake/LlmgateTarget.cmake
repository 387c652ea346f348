# Shared settings for llmgate's own targets: warnings (as errors) apply to our
# code only, never to the Debian libraries we include.
function(llmgate_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter
    -Wno-missing-field-initializers)  # designated initializers may omit defaulted members
  if(LLMGATE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(LLMGATE_SANITIZE)
    # GCC 12 under ASan instrumentation: std::optional members reported as
    # maybe-uninitialized, and Asio's coroutine-frame operator delete as
    # mismatched with its operator new (false positives); the Release build
    # keeps both warnings.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized -Wno-mismatched-new-delete)
  endif()
  target_compile_definitions(${target} PRIVATE
    BOOST_ASIO_NO_DEPRECATED
    LLMGATE_VERSION="${PROJECT_VERSION}")
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# llmgate_library(name SOURCES ... DEPS ...): one library target per module folder.
function(llmgate_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  llmgate_defaults(${name})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# llmgate_test(name SOURCES ... DEPS ... LABEL unit): a GoogleTest binary registered with CTest.
function(llmgate_test name)
  cmake_parse_arguments(ARG "" "LABEL" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  llmgate_defaults(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT 120)
endfunction()

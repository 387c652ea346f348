# The two commands of the README: `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build run test unit integration deploy-check e2e bench asan format lint clean

all: build

deps:
	@bash scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts fakellm and llmgate on the embedded default config (offline) and prints a curl line.
run: build
	@bash scripts/run-demo $(BUILD_DIR)

e2e-deps:
	@bash scripts/install-e2e

test: build e2e-deps
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

unit: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

integration: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L integration

# deploy/: manifests rendered and validated offline, yamllint, the image's libraries.
deploy-check: build e2e-deps
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L deploy

bench: build
	@bash bench/run.sh $(BUILD_DIR)

asan:
	@$(MAKE) test BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo CMAKE_FLAGS="-DLLMGATE_SANITIZE=address,undefined"

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

lint:
	@bash scripts/lint

clean:
	@rm -rf $(BUILD_DIR)

// fakellm: the fake LLM provider behind llmgate's tests, demo and benchmarks.
#include <cstdio>
#include <iostream>
#include <string_view>
#include <vector>

#include "tests/fakes/fakellm/options.h"
#include "tests/fakes/fakellm/server.h"

int main(int argc, char** argv) {
  using llmgate::fakellm::Options;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  auto options = llmgate::fakellm::parseOptions(args);
  if (!options.ok()) {
    std::cerr << "fakellm: " << options.status().message() << "\n";
    return 2;
  }
  if (options->help) {
    std::cout << llmgate::fakellm::usageText();
    return 0;
  }
  if (options->version) {
    std::cout << "fakellm " << LLMGATE_VERSION << "\n";
    return 0;
  }
  const std::string host = options->host;
  llmgate::fakellm::Server server(*std::move(options));
  auto port = server.bind();
  if (!port.ok()) {
    std::cerr << "fakellm: " << port.status().message() << "\n";
    return 1;
  }
  const bool v6 = host.find(':') != std::string::npos;
  std::cout << "fakellm listening on " << (v6 ? "[" : "") << host << (v6 ? "]" : "") << ":" << *port
            << std::endl;
  server.run();
  return 0;
}

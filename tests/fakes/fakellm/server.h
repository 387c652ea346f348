// The workers: one io_context per thread, each with its own acceptor on the
// same port (SO_REUSEPORT when there are several), as DESIGN.md lays out.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/fakes/fakellm/options.h"
#include "tests/fakes/fakellm/session.h"

namespace llmgate::fakellm {

class Server {
 public:
  explicit Server(Options options);
  ~Server();

  // Binds every worker's acceptor; returns the bound port.
  absl::StatusOr<uint16_t> bind();

  // Serves until stop() or SIGINT/SIGTERM; returns when every worker is done.
  void run();

  // Thread-safe.
  void stop();

 private:
  struct Worker;

  SharedState shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace llmgate::fakellm

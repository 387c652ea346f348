// The admin listener (default 127.0.0.1:9901): /healthz, /readyz, /config, /routes, /metrics.
// Its own thread and io_context, so a saturated data plane never hides
// health or config from an operator.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "proxy/runtime/gateway_snapshot.h"
#include "proxy/server/server_state.h"

namespace llmgate::proxy::admin {

class AdminServer {
 public:
  using SnapshotSource = std::function<runtime::SnapshotPtr()>;
  using MetricsSource = std::function<std::string()>;
  using RoutesSource = std::function<std::string()>;  // the /routes JSON body

  AdminServer(server::ServerState& state, SnapshotSource snapshot, MetricsSource metrics);
  ~AdminServer();

  // Before start(): serves /routes (the control plane's view of the table).
  void setRoutesSource(RoutesSource routes) { routes_ = std::move(routes); }

  absl::Status listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint localEndpoint() const { return acceptor_.local_endpoint(); }
  void start();
  void stop();

 private:
  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);

  server::ServerState& state_;
  SnapshotSource snapshot_;
  MetricsSource metrics_;
  RoutesSource routes_;
  boost::asio::io_context ioc_{1};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

}  // namespace llmgate::proxy::admin

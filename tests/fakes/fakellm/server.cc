#include "tests/fakes/fakellm/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <thread>

#include "absl/status/status.h"
#include "common/text/str_cat.h"

namespace llmgate::fakellm {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

asio::awaitable<void> acceptLoop(tcp::acceptor& acceptor, WorkerContext& context) {
  constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      asio::steady_timer timer(acceptor.get_executor(), std::chrono::milliseconds(10));
      co_await timer.async_wait(kTuple);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    context.shared.stats.recordConnection();
    asio::co_spawn(acceptor.get_executor(), runSession(std::move(socket), context), asio::detached);
  }
}

}  // namespace

struct Server::Worker {
  Worker(SharedState& shared, uint64_t seed) : context{shared, Rng(seed)} {}

  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  WorkerContext context;
};

Server::Server(Options options) : shared_(std::move(options)) {
  const Options& opt = shared_.options;
  for (int i = 0; i < opt.threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(shared_, opt.seed + static_cast<uint64_t>(i)));
  }
}

Server::~Server() = default;

absl::StatusOr<uint16_t> Server::bind() {
  const Options& opt = shared_.options;
  uint16_t port = opt.port;
  for (auto& w : workers_) {
    boost::system::error_code ec;
    const tcp::endpoint endpoint(asio::ip::make_address(opt.host), port);
    w->acceptor.open(endpoint.protocol(), ec);
    if (!ec) w->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && workers_.size() > 1) w->acceptor.set_option(ReusePort(true), ec);
    if (!ec) w->acceptor.bind(endpoint, ec);
    if (!ec) w->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          strCat("cannot listen on ", opt.host, ":", port, ": ", ec.message()));
    }
    port = w->acceptor.local_endpoint().port();  // the others join the port the first one got
  }
  return port;
}

void Server::run() {
  for (auto& w : workers_) {
    asio::co_spawn(w->ioc, acceptLoop(w->acceptor, w->context), asio::detached);
  }
  asio::signal_set signals(workers_.front()->ioc, SIGINT, SIGTERM);
  signals.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) stop();
  });
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers_.size(); ++i) {
    threads.emplace_back([w = workers_[i].get()] { w->ioc.run(); });
  }
  workers_.front()->ioc.run();
  for (auto& t : threads) t.join();
}

void Server::stop() {
  for (auto& w : workers_) w->ioc.stop();
}

}  // namespace llmgate::fakellm

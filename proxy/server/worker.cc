#include "proxy/server/worker.h"

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "common/log/log.h"
#include "common/text/str_cat.h"
#include "proxy/server/keepalive_pinger.h"
#include "proxy/server/session.h"

namespace llmgate::proxy::server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

}  // namespace

Worker::Worker(int index, unsigned worker_count, asio::ssl::context& tls, ServerState& state,
               telemetry::Stats& stats, runtime::SnapshotPtr snapshot, cache::LruCache* l1,
               cache::Coalescer& coalescer)
    : index_(index),
      state_(state),
      stats_(stats),
      pools_(ioc_, tls, worker_count),
      acceptor_(ioc_),
      snapshot_(std::move(snapshot)),
      rng_(std::random_device{}() ^ (static_cast<std::uint64_t>(index) << 32)),
      coalescer_(coalescer) {
  const config::CacheConfig& cache = snapshot_->config->cache;
  // The connection serves the L2 cache and the shared budget counters
  // (proxy/cost/budget_gate.h), so it exists even when the cache is off.
  std::chrono::milliseconds l2_ttl{0};
  if (cache.redis) {
    auto options = cache::RedisCacheOptions::fromConfig(*cache.redis);
    if (options.ok()) {
      redis_ = std::make_unique<cache::RedisCache>(ioc_.get_executor(), *options);
      l2_ttl = std::chrono::duration_cast<std::chrono::milliseconds>(cache.redis->ttl);
    } else {
      log::error("cache.redis: ", std::string(options.status().message()),
                 "; L2 and shared budgets disabled");
    }
  }
  if (l1 == nullptr) return;
  cache_ = std::make_unique<cache::TieredCache>(*l1, redis_.get(), l2_ttl);
}

Worker::~Worker() {
  stop();
  join();
  pools_.shutdown();  // the thread is gone: safe to touch the pools from here
  if (redis_) redis_->stop();
}

absl::Status Worker::listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.set_option(ReusePort(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(strCat("cannot listen on ", endpoint.address().to_string(), ":",
                                         endpoint.port(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

void Worker::start() {
  asio::co_spawn(ioc_, acceptLoop(), asio::detached);
  asio::co_spawn(ioc_, runKeepalivePinger(*this), asio::detached);
  if (redis_) asio::post(ioc_, [this] { redis_->start(); });
  thread_ = std::thread([this] { ioc_.run(); });
}

asio::awaitable<void> Worker::acceptLoop() {
  const std::uint32_t max_connections = snapshot_->config->server.max_connections;
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      // EMFILE and friends: back off briefly instead of spinning.
      log::warn("worker ", index_, ": accept failed: ", ec.message());
      asio::steady_timer pause(ioc_, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    if (state_.open_connections.load(std::memory_order_relaxed) >=
        static_cast<std::int64_t>(max_connections)) {
      boost::system::error_code ignored;
      socket.close(ignored);  // over server.max_connections: refuse quickly
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(ioc_, runSession(*this, boost::beast::tcp_stream(std::move(socket))),
                   asio::detached);
  }
}

void Worker::publish(runtime::SnapshotPtr snapshot) {
  asio::post(ioc_, [this, s = std::move(snapshot)]() mutable { snapshot_ = std::move(s); });
}

void Worker::beginDrain() {
  asio::post(ioc_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    const std::size_t closed = sessions_.closeIdle();
    log::debug("worker ", index_, ": drain: acceptor closed, ", closed,
               " idle connection(s) closed, ", sessions_.size() - closed, " busy");
  });
}

void Worker::abortInFlight() {
  asio::post(ioc_, [this] { pools_.abort(); });
}

void Worker::stop() { ioc_.stop(); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace llmgate::proxy::server

// A worker: one thread, one io_context, its own SO_REUSEPORT acceptor and its
// own upstream pools (Envoy's thread-local model). Sessions never leave their
// worker. The config snapshot is a per-worker pointer replaced by a post.
#pragma once

#include <memory>
#include <random>
#include <thread>

#include "absl/status/status.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "common/net/deadlines.h"
#include "proxy/cache/coalescer.h"
#include "proxy/cache/lru_cache.h"
#include "proxy/cache/redis_cache.h"
#include "proxy/cache/tiered_cache.h"
#include "proxy/runtime/gateway_snapshot.h"
#include "proxy/runtime/upstream_pools.h"
#include "proxy/server/drain_coordinator.h"
#include "proxy/server/server_state.h"
#include "proxy/server/session_registry.h"
#include "proxy/telemetry/stats.h"

namespace llmgate::proxy::server {

class Worker : public Drainable {
 public:
  // `l1` and `coalescer` are shared by all workers; `l1` may be null (cache off).
  Worker(int index, unsigned worker_count, boost::asio::ssl::context& tls, ServerState& state,
         telemetry::Stats& stats, runtime::SnapshotPtr snapshot, cache::LruCache* l1,
         cache::Coalescer& coalescer);
  ~Worker() override;

  // Binds (SO_REUSEPORT) on the calling thread so errors surface at start-up.
  absl::Status listen(const boost::asio::ip::tcp::endpoint& endpoint);
  void start();
  void publish(runtime::SnapshotPtr snapshot);
  // Drain (R65), each posted to the worker's thread, never blocking the caller:
  // beginDrain closes the acceptor and the idle client connections;
  // abortInFlight (at the drain deadline) cuts every upstream exchange still
  // running, so streams end with the terminal event and waiting requests get
  // a 503 server_shutting_down.
  void beginDrain() override;
  void abortInFlight() override;
  void stop();
  void join();

  // For sessions, on this worker's thread only.
  boost::asio::io_context& ioc() { return ioc_; }
  const runtime::SnapshotPtr& snapshot() const { return snapshot_; }
  runtime::UpstreamPools& pools() { return pools_; }
  std::mt19937_64& rng() { return rng_; }
  ServerState& state() { return state_; }
  telemetry::Stats& stats() { return stats_; }
  cache::Cache* cache() { return cache_.get(); }
  cache::Coalescer& coalescer() { return coalescer_; }
  SessionRegistry& sessions() { return sessions_; }
  net::Deadlines& deadlines() { return deadlines_; }
  const cache::RedisCache* redis() const { return redis_.get(); }
  cache::RedisCache* redis() { return redis_.get(); }

 private:
  boost::asio::awaitable<void> acceptLoop();

  int index_;
  ServerState& state_;
  telemetry::Stats& stats_;
  // Declared before ioc_ so that it outlives the session coroutines the
  // io_context destroys if the worker stops with sessions still open.
  SessionRegistry sessions_;
  boost::asio::io_context ioc_{1};
  net::Deadlines& deadlines_ = net::Deadlines::of(ioc_);
  runtime::UpstreamPools pools_;
  boost::asio::ip::tcp::acceptor acceptor_;
  runtime::SnapshotPtr snapshot_;
  std::mt19937_64 rng_;
  cache::Coalescer& coalescer_;
  std::unique_ptr<cache::RedisCache> redis_;  // this worker's L2 connection
  std::unique_ptr<cache::TieredCache> cache_;
  std::thread thread_;
};

}  // namespace llmgate::proxy::server

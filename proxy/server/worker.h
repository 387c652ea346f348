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
#include "proxy/cache/coalescer.h"
#include "proxy/cache/lru_cache.h"
#include "proxy/cache/redis_cache.h"
#include "proxy/cache/tiered_cache.h"
#include "proxy/runtime/gateway_snapshot.h"
#include "proxy/runtime/upstream_pools.h"
#include "proxy/server/server_state.h"
#include "proxy/telemetry/stats.h"

namespace llmgate::proxy::server {

class Worker {
 public:
  // `l1` and `coalescer` are shared by all workers; `l1` may be null (cache off).
  Worker(int index, unsigned worker_count, boost::asio::ssl::context& tls, ServerState& state,
         telemetry::Stats& stats, runtime::SnapshotPtr snapshot, cache::LruCache* l1,
         cache::Coalescer& coalescer);
  ~Worker();

  // Binds (SO_REUSEPORT) on the calling thread so errors surface at start-up.
  absl::Status listen(const boost::asio::ip::tcp::endpoint& endpoint);
  void start();
  void publish(runtime::SnapshotPtr snapshot);
  void stopAccepting();
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
  const cache::RedisCache* redis() const { return redis_.get(); }
  cache::RedisCache* redis() { return redis_.get(); }

 private:
  boost::asio::awaitable<void> acceptLoop();

  int index_;
  ServerState& state_;
  telemetry::Stats& stats_;
  boost::asio::io_context ioc_{1};
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

// Keep-alive connections to one provider, owned by one worker thread (no
// locks: a pool is only touched from its worker's io_context). At most
// `max_connections` are open; callers beyond that wait for a slot until their
// deadline. Connect = resolve + address policy + TCP connect + TLS (verified
// against the system store, SNI, TLS >= 1.2).
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "boost/asio/awaitable.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "common/config/schema.h"
#include "common/net/deadlines.h"
#include "proxy/upstream/upstream_connection.h"
#include "proxy/upstream/upstream_error.h"

namespace llmgate::proxy::upstream {

class UpstreamPool;

// A connection on loan from a pool. Goes back to the pool when destroyed:
// idle for reuse if markReusable() was called, closed otherwise.
class ConnectionLease {
 public:
  ConnectionLease() = default;
  ConnectionLease(std::shared_ptr<UpstreamPool> pool, std::unique_ptr<UpstreamConnection> conn,
                  bool reused);
  ConnectionLease(ConnectionLease&&) noexcept = default;
  ConnectionLease& operator=(ConnectionLease&& other) noexcept;
  ~ConnectionLease();

  explicit operator bool() const { return conn_ != nullptr; }
  UpstreamConnection& operator*() { return *conn_; }
  UpstreamConnection* operator->() { return conn_.get(); }
  bool reused() const { return reused_; }
  void markReusable() { reusable_ = true; }
  void reset();

 private:
  std::shared_ptr<UpstreamPool> pool_;
  std::unique_ptr<UpstreamConnection> conn_;
  bool reused_ = false;
  bool reusable_ = false;
};

struct AcquireResult {
  ConnectionLease lease;
  UpstreamError error;
};

class UpstreamPool : public std::enable_shared_from_this<UpstreamPool> {
 public:
  UpstreamPool(boost::asio::io_context& ioc, boost::asio::ssl::context& tls,
               const config::ProviderConfig& provider, std::uint32_t max_connections);

  // An idle connection when one is ready (unless fresh_only), else a new one
  // when under max_connections, else waits for a release until `deadline`.
  // The connect phase is bounded by timeouts.connect and by `deadline`.
  boost::asio::awaitable<AcquireResult> acquire(time::SteadyTime deadline, bool fresh_only = false);
  // The idle connection acquire() would take first, without a coroutine:
  // nullopt when there is none (the caller then awaits acquire()).
  std::optional<ConnectionLease> takeIdle();

  // Called by ConnectionLease.
  void onLeased(UpstreamConnection* conn) {
    conn->leased_index = leased_.size();
    leased_.push_back(conn);
  }
  void release(std::unique_ptr<UpstreamConnection> conn, bool reusable);

  // The deadlines of this worker's exchanges (one timer for all of them).
  net::Deadlines& deadlines() { return deadlines_; }

  // Closes idle connections and refuses to keep released ones (worker stop).
  void shutdown();
  // The drain deadline (R65): closes every leased connection, so the exchanges
  // on them fail at once, and refuses new acquisitions with kShuttingDown.
  void abort();
  bool aborted() const { return aborted_; }

  std::uint32_t openConnections() const { return open_; }
  // Upstream connections open in the whole process (all pools, all workers).
  static std::int64_t totalOpenConnections() { return total_open_.load(std::memory_order_relaxed); }
  // When a request last took a connection (keep-alive pings skip busy pools).
  time::SteadyTime lastUsed() const { return last_used_; }
  std::size_t idleConnections() const { return idle_.size(); }
  const config::ProviderConfig& provider() const { return provider_; }

 private:
  boost::asio::awaitable<AcquireResult> connect(time::SteadyTime deadline);
  std::optional<ConnectionLease> takeIdle(time::SteadyTime now);
  void wakeOneWaiter();
  void adjustOpen(int delta);  // open_ and the process-wide total together

  boost::asio::io_context& ioc_;
  net::Deadlines& deadlines_;
  boost::asio::ssl::context& tls_;
  const config::ProviderConfig provider_;
  const std::uint32_t max_connections_;
  std::uint32_t open_ = 0;  // idle + leased + connecting
  static std::atomic<std::int64_t> total_open_;
  std::deque<std::unique_ptr<UpstreamConnection>> idle_;
  std::deque<boost::asio::steady_timer*> waiters_;
  // For abort(); each connection knows its index (no allocation per lease).
  std::vector<UpstreamConnection*> leased_;
  bool shut_down_ = false;
  bool aborted_ = false;
  time::SteadyTime last_used_{};
};

// A TLS client context: verify peers against the system store, TLS >= 1.2.
std::unique_ptr<boost::asio::ssl::context> makeClientTlsContext();

}  // namespace llmgate::proxy::upstream

#include "proxy/upstream/upstream_pool.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <vector>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/host_name_verification.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "common/net/address_policy.h"
#include "common/text/str_cat.h"

namespace llmgate::proxy::upstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Providers close idle keep-alive connections after ~60 s; drop ours earlier
// so a request rarely meets a connection the far end already closed.
constexpr auto kMaxIdle = std::chrono::seconds(30);

// Removes a waiter's timer from the queue however the wait ends (also when
// the waiting coroutine is destroyed).
class WaiterGuard {
 public:
  WaiterGuard(std::deque<asio::steady_timer*>& waiters, asio::steady_timer* timer)
      : waiters_(waiters), timer_(timer) {
    waiters_.push_back(timer_);
  }
  ~WaiterGuard() {
    auto it = std::find(waiters_.begin(), waiters_.end(), timer_);
    if (it != waiters_.end()) waiters_.erase(it);
  }
  WaiterGuard(const WaiterGuard&) = delete;
  WaiterGuard& operator=(const WaiterGuard&) = delete;

 private:
  std::deque<asio::steady_timer*>& waiters_;
  asio::steady_timer* timer_;
};

}  // namespace

ConnectionLease::ConnectionLease(std::shared_ptr<UpstreamPool> pool,
                                 std::unique_ptr<UpstreamConnection> conn, bool reused)
    : pool_(std::move(pool)), conn_(std::move(conn)), reused_(reused) {
  if (pool_ && conn_) pool_->onLeased(conn_.get());
}

ConnectionLease& ConnectionLease::operator=(ConnectionLease&& other) noexcept {
  if (this != &other) {
    reset();
    pool_ = std::move(other.pool_);
    conn_ = std::move(other.conn_);
    reused_ = other.reused_;
    reusable_ = other.reusable_;
    other.reusable_ = false;
  }
  return *this;
}

ConnectionLease::~ConnectionLease() { reset(); }

void ConnectionLease::reset() {
  if (conn_ && pool_) pool_->release(std::move(conn_), reusable_);
  conn_.reset();
  pool_.reset();
  reusable_ = false;
}

UpstreamPool::UpstreamPool(asio::io_context& ioc, asio::ssl::context& tls,
                           const config::ProviderConfig& provider, std::uint32_t max_connections)
    : ioc_(ioc),
      deadlines_(net::Deadlines::of(ioc)),
      tls_(tls),
      provider_(provider),
      max_connections_(std::max(1u, max_connections)) {}

std::optional<ConnectionLease> UpstreamPool::takeIdle() {
  if (aborted_ || shut_down_) return std::nullopt;  // acquire() says why
  last_used_ = time::steadyNow();
  return takeIdle(last_used_);
}

std::optional<ConnectionLease> UpstreamPool::takeIdle(time::SteadyTime now) {
  while (!idle_.empty()) {
    std::unique_ptr<UpstreamConnection> conn = std::move(idle_.back());
    idle_.pop_back();
    if (now - conn->idle_since > kMaxIdle || !conn->lowest().socket().is_open()) {
      adjustOpen(-1);
      continue;
    }
    return ConnectionLease(shared_from_this(), std::move(conn), true);
  }
  return std::nullopt;
}

asio::awaitable<AcquireResult> UpstreamPool::acquire(time::SteadyTime deadline, bool fresh_only) {
  last_used_ = time::steadyNow();
  while (true) {
    if (aborted_) {
      co_return AcquireResult{
          {},
          {UpstreamErrorKind::kShuttingDown, "the drain deadline (server.drain_timeout) passed"}};
    }
    if (shut_down_) {
      co_return AcquireResult{{}, {UpstreamErrorKind::kPoolExhausted, "the worker is stopping"}};
    }
    const auto now = time::steadyNow();
    if (!fresh_only) {
      if (std::optional<ConnectionLease> lease = takeIdle(now)) {
        co_return AcquireResult{std::move(*lease), {}};
      }
    }
    if (fresh_only && open_ >= max_connections_ && !idle_.empty()) {
      idle_.pop_front();  // make room for the fresh connection asked for
      adjustOpen(-1);
    }
    if (open_ < max_connections_) {
      adjustOpen(+1);
      AcquireResult result = co_await connect(deadline);
      if (result.error) {
        adjustOpen(-1);
        wakeOneWaiter();
      }
      co_return result;
    }
    if (now >= deadline) break;
    asio::steady_timer timer(ioc_, deadline);
    WaiterGuard guard(waiters_, &timer);
    auto [ec] = co_await timer.async_wait(kTuple);
    if (!ec) break;  // the deadline passed: no slot freed in time
  }
  co_return AcquireResult{
      {},
      {UpstreamErrorKind::kPoolExhausted,
       strCat("all ", max_connections_, " connections to provider `", provider_.name,
              "` stayed busy until the deadline (providers[].max_connections)")}};
}

asio::awaitable<AcquireResult> UpstreamPool::connect(time::SteadyTime deadline) {
  const config::UpstreamEndpoint& ep = provider_.endpoint;
  const auto connect_deadline = std::min(deadline, time::steadyNow() + provider_.timeouts.connect);

  // Resolve (Asio runs getaddrinfo off the worker thread), bounded by the deadline.
  tcp::resolver resolver(ioc_);
  asio::steady_timer timer(ioc_, connect_deadline);
  const std::string port = std::to_string(ep.port);
  auto resolved =
      co_await (resolver.async_resolve(ep.host, port, kTuple) || timer.async_wait(kTuple));
  if (resolved.index() == 1) {
    co_return AcquireResult{
        {},
        {UpstreamErrorKind::kConnectTimeout,
         strCat("resolving ", ep.host, " took longer than the connect timeout")}};
  }
  auto [resolve_ec, results] = std::get<0>(std::move(resolved));
  if (resolve_ec) {
    co_return AcquireResult{{},
                            {UpstreamErrorKind::kDnsFailed,
                             strCat("cannot resolve ", ep.host, ": ", resolve_ec.message())}};
  }

  // The address policy is checked on what DNS answered now, not only on the
  // config: a name that rebinds to 169.254.169.254 is refused here.
  std::vector<tcp::endpoint> allowed;
  for (const auto& entry : results) {
    if (provider_.allow_private_network || !net::isNonPublicAddress(entry.endpoint().address())) {
      allowed.push_back(entry.endpoint());
    }
  }
  if (allowed.empty()) {
    co_return AcquireResult{
        {},
        {UpstreamErrorKind::kForbiddenAddress,
         strCat(ep.host,
                " resolves only to non-public addresses; set allow_private_network: true "
                "on provider `",
                provider_.name, "` if that is intended")}};
  }

  beast::tcp_stream stream(ioc_);
  stream.expires_at(connect_deadline);
  auto [connect_ec, endpoint] = co_await stream.async_connect(allowed, kTuple);
  if (connect_ec == beast::error::timeout) {
    co_return AcquireResult{{},
                            {UpstreamErrorKind::kConnectTimeout,
                             strCat("connecting to ", ep.host, ":", ep.port, " timed out")}};
  }
  if (connect_ec) {
    co_return AcquireResult{
        {},
        {UpstreamErrorKind::kConnectRefused,
         strCat("cannot connect to ", ep.host, ":", ep.port, ": ", connect_ec.message())}};
  }
  boost::system::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);

  if (!ep.tls) {
    co_return AcquireResult{
        ConnectionLease(shared_from_this(), std::make_unique<UpstreamConnection>(std::move(stream)),
                        false),
        {}};
  }

  auto tls = std::make_unique<UpstreamConnection::TlsStream>(std::move(stream), tls_);
  const bool host_is_ip = net::parseIpLiteralLoose(ep.host).has_value();
  if (!host_is_ip) {
    // SNI: without it many providers (behind CDNs) present the wrong certificate.
    SSL_set_tlsext_host_name(tls->native_handle(), ep.host.c_str());
  }
  tls->set_verify_mode(asio::ssl::verify_peer);
  tls->set_verify_callback(asio::ssl::host_name_verification(ep.host));
  beast::get_lowest_layer(*tls).expires_at(connect_deadline);
  auto [handshake_ec] = co_await tls->async_handshake(asio::ssl::stream_base::client, kTuple);
  if (handshake_ec == beast::error::timeout) {
    co_return AcquireResult{
        {},
        {UpstreamErrorKind::kConnectTimeout, strCat("TLS handshake with ", ep.host, " timed out")}};
  }
  if (handshake_ec) {
    co_return AcquireResult{
        {},
        {UpstreamErrorKind::kTlsError,
         strCat("TLS handshake with ", ep.host, " failed: ", handshake_ec.message())}};
  }
  co_return AcquireResult{
      ConnectionLease(shared_from_this(), std::make_unique<UpstreamConnection>(std::move(tls)),
                      false),
      {}};
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> conn, bool reusable) {
  if (conn->leased_index < leased_.size() && leased_[conn->leased_index] == conn.get()) {
    leased_[conn->leased_index] = leased_.back();
    leased_[conn->leased_index]->leased_index = conn->leased_index;
    leased_.pop_back();
  }
  if (!reusable || shut_down_ || aborted_ || !conn->lowest().socket().is_open()) {
    adjustOpen(-1);
    conn.reset();
  } else {
    conn->idle_since = time::steadyNow();
    ++conn->requests_served;
    idle_.push_back(std::move(conn));
  }
  wakeOneWaiter();
}

std::atomic<std::int64_t> UpstreamPool::total_open_{0};

void UpstreamPool::adjustOpen(int delta) {
  open_ = static_cast<std::uint32_t>(static_cast<int>(open_) + delta);
  total_open_.fetch_add(delta, std::memory_order_relaxed);
}

void UpstreamPool::wakeOneWaiter() {
  if (waiters_.empty()) return;
  asio::steady_timer* timer = waiters_.front();
  waiters_.pop_front();
  timer->cancel();
}

void UpstreamPool::shutdown() {
  shut_down_ = true;
  adjustOpen(-static_cast<int>(idle_.size()));
  idle_.clear();
  while (!waiters_.empty()) wakeOneWaiter();
}

void UpstreamPool::abort() {
  aborted_ = true;
  for (UpstreamConnection* conn : leased_) {
    boost::system::error_code ignored;
    // Pending reads and writes complete with operation_aborted, later ones
    // fail with bad_descriptor; UpstreamCall reports both as kShuttingDown.
    conn->lowest().socket().close(ignored);
  }
  adjustOpen(-static_cast<int>(idle_.size()));
  idle_.clear();
  while (!waiters_.empty()) wakeOneWaiter();
}

std::unique_ptr<asio::ssl::context> makeClientTlsContext() {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_verify_mode(asio::ssl::verify_peer);
  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);  // the system store (ca-certificates)
  return ctx;
}

}  // namespace llmgate::proxy::upstream

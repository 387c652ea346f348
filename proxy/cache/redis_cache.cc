#include "proxy/cache/redis_cache.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <random>
#include <span>
#include <utility>

#include "absl/status/status.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/posix/stream_descriptor.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/url/parse.hpp"
#include "common/text/str_cat.h"

namespace llmgate::proxy::cache {

namespace asio = boost::asio;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// One command in flight. hiredis calls its reply callback exactly once: with
// the reply, or with nullptr when the connection goes away. The awaiting
// coroutine sleeps on `timer` until the callback cancels it or the timeout.
struct Op {
  explicit Op(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool done = false;
  bool ok = false;  // a reply arrived (of any type)
  int type = 0;     // REDIS_REPLY_*
  std::string str;  // string, status or error text
  std::atomic<std::uint64_t>* in_flight = nullptr;
};

void onReply(redisAsyncContext*, void* reply_ptr, void* privdata) {
  std::unique_ptr<std::shared_ptr<Op>> holder(static_cast<std::shared_ptr<Op>*>(privdata));
  Op& op = **holder;
  if (op.in_flight != nullptr) op.in_flight->fetch_sub(1, std::memory_order_relaxed);
  op.done = true;
  if (auto* reply = static_cast<redisReply*>(reply_ptr)) {
    op.ok = true;
    op.type = reply->type;
    if (reply->str != nullptr) op.str.assign(reply->str, reply->len);
  }
  op.timer.cancel();
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

// hiredis <-> Asio: hiredis says when it wants to read or write
// (addRead/delRead/addWrite/delWrite); we wait for readiness on a dup of its
// socket with async_wait and call redisAsyncHandleRead/Write. The dup keeps
// our descriptor valid until we close it, whenever hiredis closes its own.
struct Socket : std::enable_shared_from_this<Socket> {
  Socket(const asio::any_io_executor& ex, int fd, redisAsyncContext* context,
         RedisCache::Impl* impl)
      : sd(ex, fd), ac(context), owner(impl) {}

  asio::posix::stream_descriptor sd;
  redisAsyncContext* ac;  // nullptr once hiredis freed the context
  RedisCache::Impl* owner;
  bool want_read = false, want_write = false;
  bool read_armed = false, write_armed = false;

  void armRead() {
    if (read_armed || ac == nullptr || !want_read) return;
    read_armed = true;
    sd.async_wait(asio::posix::stream_descriptor::wait_read,
                  [self = shared_from_this()](boost::system::error_code ec) {
                    self->read_armed = false;
                    if (ec || self->ac == nullptr || !self->want_read) return;
                    redisAsyncHandleRead(self->ac);  // may free the context (cleanup below)
                    self->armRead();
                  });
  }
  void armWrite() {
    if (write_armed || ac == nullptr || !want_write) return;
    write_armed = true;
    sd.async_wait(asio::posix::stream_descriptor::wait_write,
                  [self = shared_from_this()](boost::system::error_code ec) {
                    self->write_armed = false;
                    if (ec || self->ac == nullptr || !self->want_write) return;
                    redisAsyncHandleWrite(self->ac);
                    self->armWrite();
                  });
  }

  static void addRead(void* p) {
    auto* s = static_cast<Socket*>(p);
    s->want_read = true;
    s->armRead();
  }
  static void delRead(void* p) { static_cast<Socket*>(p)->want_read = false; }
  static void addWrite(void* p) {
    auto* s = static_cast<Socket*>(p);
    s->want_write = true;
    s->armWrite();
  }
  static void delWrite(void* p) { static_cast<Socket*>(p)->want_write = false; }
  static void cleanup(void* p);
};

struct RedisCache::Impl : std::enable_shared_from_this<RedisCache::Impl> {
  Impl(asio::any_io_executor executor, RedisCacheOptions opts, const time::Clock& c)
      : ex(std::move(executor)),
        options(std::move(opts)),
        clock(c),
        wake(ex),
        sleep(ex),
        rng(std::random_device{}()) {}

  asio::any_io_executor ex;
  RedisCacheOptions options;
  const time::Clock& clock;
  asio::steady_timer wake;   // the connection loop waits on it; events cancel it
  asio::steady_timer sleep;  // reconnect backoff
  std::minstd_rand rng;

  bool started = false;
  bool stopped = false;
  redisAsyncContext* ac = nullptr;
  std::shared_ptr<Socket> socket;
  std::atomic<bool> ready{false};  // connected and handshake done

  // Breaker (this thread only, mirrored into `breaker_open` for available()).
  BreakerState breaker = BreakerState::kClosed;
  int consecutive_failures = 0;
  time::SteadyTime open_until{};
  std::atomic<bool> breaker_open{false};

  std::atomic<std::uint64_t> in_flight{0};
  struct Counters {
    std::atomic<std::uint64_t> gets{0}, hits{0}, misses{0}, sets{0}, set_failures{0}, timeouts{0},
        errors{0}, skipped{0}, breaker_opens{0}, connects{0}, connect_failures{0}, disconnects{0};
  } counters;

  static void onConnect(const redisAsyncContext* c, int status) {
    // Success or failure, the handshake PING's reply (or its nullptr on
    // failure, when hiredis frees the context) wakes the connection loop.
  }
  static void onDisconnect(const redisAsyncContext* c, int status) {}

  // The context is gone (hiredis freed it, or we did).
  void contextGone(Socket* s) {
    if (socket.get() == s) {
      if (ready.load(std::memory_order_relaxed)) {
        counters.disconnects.fetch_add(1, std::memory_order_relaxed);
      }
      ac = nullptr;
      ready.store(false, std::memory_order_relaxed);
      wake.cancel();
    }
  }

  void dropConnection() {
    if (ac != nullptr)
      redisAsyncFree(ac);  // calls cleanup, and every pending callback with nullptr
  }

  // --- breaker -------------------------------------------------------------
  enum class Admit { kNo, kYes, kProbe };

  Admit admit() {
    if (stopped) return Admit::kNo;
    bool probe = false;
    if (breaker == BreakerState::kOpen) {
      if (clock.steadyNow() < open_until) return Admit::kNo;
      breaker = BreakerState::kHalfOpen;
      probe = true;
    } else if (breaker == BreakerState::kHalfOpen) {
      return Admit::kNo;  // the probe is still out
    }
    if (!ready.load(std::memory_order_relaxed) || ac == nullptr) {
      failure(probe, false);
      return Admit::kNo;
    }
    if (!probe && in_flight.load(std::memory_order_relaxed) >= options.max_in_flight) {
      return Admit::kNo;
    }
    return probe ? Admit::kProbe : Admit::kYes;
  }

  void success() {
    consecutive_failures = 0;
    if (breaker != BreakerState::kClosed) setBreaker(BreakerState::kClosed);
  }

  void failure(bool probe, bool timed_out) {
    ++consecutive_failures;
    if (probe || breaker == BreakerState::kHalfOpen) {
      open();
      // A probe that timed out: the connection is suspect (hung server, dead
      // peer, moved address); leave it and reconnect in the background.
      if (timed_out) dropConnection();
    } else if (breaker == BreakerState::kClosed &&
               consecutive_failures >= options.breaker_failures) {
      open();
    }
  }

  void open() {
    open_until =
        clock.steadyNow() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(options.breaker_cooldown);
    if (breaker == BreakerState::kClosed) {
      counters.breaker_opens.fetch_add(1, std::memory_order_relaxed);
    }
    setBreaker(BreakerState::kOpen);
  }

  void setBreaker(BreakerState state) {
    breaker = state;
    breaker_open.store(state != BreakerState::kClosed, std::memory_order_relaxed);
  }

  // --- commands ------------------------------------------------------------

  // Queues a command; nullptr if hiredis refused it (no connection).
  std::shared_ptr<Op> command(std::initializer_list<std::string_view> args) {
    return command(std::span<const std::string_view>(args.begin(), args.size()));
  }
  std::shared_ptr<Op> command(std::span<const std::string_view> args) {
    constexpr std::size_t kMaxArgs = 16;
    if (ac == nullptr || args.size() > kMaxArgs) return nullptr;
    const char* argv[kMaxArgs];
    std::size_t lens[kMaxArgs];
    int argc = 0;
    for (std::string_view a : args) {
      argv[argc] = a.data();
      lens[argc] = a.size();
      ++argc;
    }
    auto op = std::make_shared<Op>(ex);
    op->in_flight = &in_flight;
    auto* holder = new std::shared_ptr<Op>(op);
    if (redisAsyncCommandArgv(ac, &onReply, holder, argc, argv, lens) != REDIS_OK) {
      delete holder;
      return nullptr;
    }
    in_flight.fetch_add(1, std::memory_order_relaxed);
    return op;
  }

  // One get/set: admitted by the breaker and queued synchronously (so `args`
  // only has to live during this call), then awaited by finish().
  struct Started {
    std::shared_ptr<Op> op;  // nullptr: skipped or refused, nothing to await
    bool probe = false;
  };

  Started begin(std::initializer_list<std::string_view> args) {
    return begin(std::span<const std::string_view>(args.begin(), args.size()));
  }
  Started begin(std::span<const std::string_view> args) {
    const Admit admitted = admit();
    if (admitted == Admit::kNo) {
      counters.skipped.fetch_add(1, std::memory_order_relaxed);
      return {};
    }
    Started started{command(args), admitted == Admit::kProbe};
    if (started.op == nullptr) {
      counters.errors.fetch_add(1, std::memory_order_relaxed);
      failure(started.probe, false);
    }
    return started;
  }

  // Waits for the reply under the per-op timeout. nullptr when it was skipped,
  // timed out or the connection went away; otherwise the reply (maybe an error).
  asio::awaitable<std::shared_ptr<Op>> finish(const Started& started) {
    auto self = shared_from_this();  // the coroutine may outlive the RedisCache handle
    std::shared_ptr<Op> op = started.op;
    if (op == nullptr) co_return nullptr;
    op->timer.expires_after(options.timeout);
    [[maybe_unused]] auto [ec] = co_await op->timer.async_wait(kAwait);
    if (!op->done) {
      counters.timeouts.fetch_add(1, std::memory_order_relaxed);
      failure(started.probe, true);
      co_return nullptr;
    }
    if (!op->ok) {  // the connection went away under the op
      counters.errors.fetch_add(1, std::memory_order_relaxed);
      failure(started.probe, false);
      co_return nullptr;
    }
    success();
    if (op->type == REDIS_REPLY_ERROR) {
      counters.errors.fetch_add(1, std::memory_order_relaxed);
      if (startsWith(op->str, "READONLY")) dropConnection();
    }
    co_return op;
  }

  // --- connection loop -----------------------------------------------------

  asio::awaitable<bool> connectOnce() {
    asio::ip::tcp::resolver resolver(ex);
    const std::string port = std::to_string(options.endpoint.port);
    auto [rec, results] = co_await resolver.async_resolve(options.endpoint.host, port, kAwait);
    if (rec || results.empty() || stopped) co_return false;
    const std::string ip = results.begin()->endpoint().address().to_string();

    redisAsyncContext* c = redisAsyncConnect(ip.c_str(), options.endpoint.port);
    if (c == nullptr) co_return false;
    if (c->err != 0) {
      redisAsyncFree(c);
      co_return false;
    }
    const int fd = ::dup(c->c.fd);
    if (fd < 0) {
      redisAsyncFree(c);
      co_return false;
    }
    socket = std::make_shared<Socket>(ex, fd, c, this);
    ac = c;
    c->data = this;
    c->ev.data = socket.get();
    c->ev.addRead = &Socket::addRead;
    c->ev.delRead = &Socket::delRead;
    c->ev.addWrite = &Socket::addWrite;
    c->ev.delWrite = &Socket::delWrite;
    c->ev.cleanup = &Socket::cleanup;
    redisAsyncSetConnectCallback(c, &Impl::onConnect);  // arms the first write wait
    redisAsyncSetDisconnectCallback(c, &Impl::onDisconnect);

    // Pipelined handshake; replies come in order, so PING's reply means all arrived.
    std::shared_ptr<Op> auth, select;
    if (!options.password.empty()) auth = command({"AUTH", options.password});
    const std::string db = std::to_string(options.endpoint.db);
    if (options.endpoint.db != 0) select = command({"SELECT", db});
    std::shared_ptr<Op> ping = command({"PING"});
    if (ping == nullptr) {
      dropConnection();
      co_return false;
    }
    ping->timer.expires_after(options.connect_timeout);
    [[maybe_unused]] auto [ec] = co_await ping->timer.async_wait(kAwait);
    auto replied = [](const std::shared_ptr<Op>& op) {
      return op == nullptr || (op->done && op->ok && op->type != REDIS_REPLY_ERROR);
    };
    if (stopped || ac != c || !ping->done || !replied(ping) || !replied(auth) || !replied(select) ||
        (auth && !auth->done) || (select && !select->done)) {
      if (ac == c) dropConnection();
      co_return false;
    }
    ready.store(true, std::memory_order_relaxed);
    consecutive_failures = 0;
    setBreaker(BreakerState::kClosed);
    counters.connects.fetch_add(1, std::memory_order_relaxed);
    co_return true;
  }

  asio::awaitable<void> connectionLoop() {
    auto self = shared_from_this();
    auto backoff = options.reconnect_min;
    while (!stopped) {
      const bool connected = co_await connectOnce();
      if (stopped) break;
      if (connected) {
        const auto since = clock.steadyNow();
        while (!stopped && ac != nullptr) {
          wake.expires_at(asio::steady_timer::time_point::max());
          [[maybe_unused]] auto [ec] = co_await wake.async_wait(kAwait);
        }
        // A connection that lived a while resets the backoff; one that drops at
        // once (a server accepting and closing) keeps growing it.
        if (clock.steadyNow() - since > std::chrono::seconds(1)) backoff = options.reconnect_min;
      } else {
        counters.connect_failures.fetch_add(1, std::memory_order_relaxed);
      }
      if (stopped) break;
      std::uniform_real_distribution<double> jitter(0.5, 1.0);
      const auto delay =
          std::chrono::duration_cast<std::chrono::nanoseconds>(backoff * jitter(rng));
      sleep.expires_after(delay);
      [[maybe_unused]] auto [ec] = co_await sleep.async_wait(kAwait);
      backoff = std::min(backoff * 2, options.reconnect_max);
    }
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    ready.store(false, std::memory_order_relaxed);
    dropConnection();
    wake.cancel();
    sleep.cancel();
  }
};

void Socket::cleanup(void* p) {
  auto* s = static_cast<Socket*>(p);
  s->want_read = s->want_write = false;
  s->ac = nullptr;
  boost::system::error_code ec;
  s->sd.close(ec);  // pending waits complete with operation_aborted
  s->owner->contextGone(s);
}

absl::StatusOr<RedisEndpoint> parseRedisUrl(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return absl::InvalidArgumentError("not a URL (expected redis://host:port/db)");
  if (parsed->scheme() != "redis") {
    return absl::InvalidArgumentError(strCat("unsupported scheme \"",
                                             std::string_view(parsed->scheme()),
                                             "\" (expected redis://; TLS is not supported)"));
  }
  if (parsed->has_userinfo()) {
    return absl::InvalidArgumentError(
        "credentials in the URL are not allowed; use cache.redis.password_env");
  }
  RedisEndpoint ep;
  ep.host = std::string(parsed->host_address());
  if (ep.host.empty()) return absl::InvalidArgumentError("missing host");
  if (parsed->has_port()) {
    const auto port = parsed->port_number();
    if (port == 0) return absl::InvalidArgumentError("invalid port");
    ep.port = port;
  }
  std::string_view path = parsed->encoded_path();
  if (!path.empty() && path != "/") {
    path.remove_prefix(1);
    int db = -1;
    const auto [ptr, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
    if (ec != std::errc() || ptr != path.data() + path.size() || db < 0 || db > 65535) {
      return absl::InvalidArgumentError(
          strCat("invalid database \"", path, "\" (expected /0 .. /15)"));
    }
    ep.db = db;
  }
  if (parsed->has_query() || parsed->has_fragment()) {
    return absl::InvalidArgumentError("query and fragment are not supported");
  }
  return ep;
}

absl::StatusOr<RedisCacheOptions> RedisCacheOptions::fromConfig(const config::RedisConfig& config) {
  auto endpoint = parseRedisUrl(config.url);
  if (!endpoint.ok()) return endpoint.status();
  RedisCacheOptions options;
  options.endpoint = *std::move(endpoint);
  if (config.password) options.password = config.password->value;
  options.timeout = config.timeout;
  return options;
}

RedisCache::RedisCache(asio::any_io_executor executor, RedisCacheOptions options,
                       const time::Clock& clock)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options), clock)) {}

RedisCache::~RedisCache() { stop(); }

void RedisCache::start() {
  if (impl_->started || impl_->stopped) return;
  impl_->started = true;
  auto impl = impl_;
  asio::co_spawn(impl->ex, impl->connectionLoop(), asio::detached);
}

void RedisCache::stop() { impl_->stop(); }

asio::awaitable<std::optional<std::string>> RedisCache::get(std::string key) {
  auto impl = impl_;
  impl->counters.gets.fetch_add(1, std::memory_order_relaxed);
  const std::string full_key = strCat(impl->options.key_prefix, key);
  const Impl::Started started = impl->begin({"GET", full_key});
  std::shared_ptr<Op> op = co_await impl->finish(started);
  if (op == nullptr || op->type == REDIS_REPLY_ERROR) co_return std::nullopt;
  if (op->type != REDIS_REPLY_STRING) {
    impl->counters.misses.fetch_add(1, std::memory_order_relaxed);
    co_return std::nullopt;
  }
  impl->counters.hits.fetch_add(1, std::memory_order_relaxed);
  co_return std::move(op->str);
}

asio::awaitable<bool> RedisCache::set(std::string key, std::string value,
                                      std::chrono::milliseconds ttl) {
  auto impl = impl_;
  impl->counters.sets.fetch_add(1, std::memory_order_relaxed);
  const std::string full_key = strCat(impl->options.key_prefix, key);
  const std::string px = std::to_string(std::max<std::int64_t>(ttl.count(), 1));
  const Impl::Started started = impl->begin({"SET", full_key, value, "PX", px});
  std::shared_ptr<Op> op = co_await impl->finish(started);
  const bool stored = op != nullptr && op->type == REDIS_REPLY_STATUS && op->str == "OK";
  if (!stored) impl->counters.set_failures.fetch_add(1, std::memory_order_relaxed);
  co_return stored;
}

asio::awaitable<std::optional<std::string>> RedisCache::eval(std::string_view script,
                                                             std::vector<std::string> keys,
                                                             std::vector<std::string> args) {
  auto impl = impl_;
  std::vector<std::string> full_keys;
  full_keys.reserve(keys.size());
  for (const std::string& key : keys) full_keys.push_back(strCat(impl->options.key_prefix, key));
  const std::string numkeys = std::to_string(full_keys.size());
  std::vector<std::string_view> argv = {"EVAL", script, numkeys};
  for (const std::string& key : full_keys) argv.push_back(key);
  for (const std::string& arg : args) argv.push_back(arg);
  const Impl::Started started = impl->begin(std::span<const std::string_view>(argv));
  std::shared_ptr<Op> op = co_await impl->finish(started);
  if (op == nullptr || op->type != REDIS_REPLY_STRING) co_return std::nullopt;
  co_return std::move(op->str);
}

bool RedisCache::available() const {
  return impl_->ready.load(std::memory_order_relaxed) &&
         !impl_->breaker_open.load(std::memory_order_relaxed);
}

BreakerState RedisCache::breakerState() const { return impl_->breaker; }

RedisCacheStats RedisCache::stats() const {
  const auto& c = impl_->counters;
  auto v = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return RedisCacheStats{.gets = v(c.gets),
                         .hits = v(c.hits),
                         .misses = v(c.misses),
                         .sets = v(c.sets),
                         .set_failures = v(c.set_failures),
                         .timeouts = v(c.timeouts),
                         .errors = v(c.errors),
                         .skipped = v(c.skipped),
                         .breaker_opens = v(c.breaker_opens),
                         .connects = v(c.connects),
                         .connect_failures = v(c.connect_failures),
                         .disconnects = v(c.disconnects)};
}

}  // namespace llmgate::proxy::cache

// L2: Redis through hiredis' asynchronous API, driven by one worker's
// io_context (one connection per worker; the object lives on that worker's
// thread and every call is made from it).
//
// Nothing here can fail or noticeably slow a request (R35-R38):
//  - connect, AUTH and SELECT are asynchronous (the host name is resolved
//    with Asio's resolver, hiredis gets the address);
//  - get/set wait at most `timeout` (cache.redis.timeout) and then answer
//    miss/false; a late reply is dropped;
//  - a dropped connection is re-established in the background with
//    exponential backoff (jittered); until then get/set answer at once;
//  - a circuit breaker opens after `breaker_failures` consecutive timeouts or
//    connection failures: L2 is skipped for `breaker_cooldown`, then one probe
//    decides (success closes it; failure reopens it, and a timed-out probe also
//    drops the connection so that a hung server or a moved address is left);
//  - Redis error replies (OOM, LOADING, ...) are answered as miss/false and
//    counted; they do not open the breaker (the server is answering). READONLY
//    (we talk to a replica after a failover) drops the connection to
//    re-resolve.
//
// Values are opaque here; value_codec.h frames them with a version and a
// checksum.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/awaitable.hpp"
#include "common/config/schema.h"
#include "common/time/clock.h"

namespace llmgate::proxy::cache {

struct RedisEndpoint {
  std::string host;
  std::uint16_t port = 6379;
  int db = 0;
};

// "redis://host[:port][/db]". A password in the URL is refused (it belongs in
// cache.redis.password_env); rediss:// (TLS) is not supported.
absl::StatusOr<RedisEndpoint> parseRedisUrl(std::string_view url);

struct RedisCacheOptions {
  RedisEndpoint endpoint;
  std::string password;                                                // empty: no AUTH
  std::chrono::nanoseconds timeout = std::chrono::milliseconds(25);    // per get/set
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(1);  // TCP + AUTH/SELECT/PING
  std::chrono::nanoseconds reconnect_min = std::chrono::milliseconds(50);
  std::chrono::nanoseconds reconnect_max = std::chrono::seconds(2);
  int breaker_failures = 5;
  std::chrono::nanoseconds breaker_cooldown = std::chrono::seconds(1);
  std::size_t max_in_flight = 4096;  // more concurrent ops than this are skipped
  std::string key_prefix = "llmgate:";

  static absl::StatusOr<RedisCacheOptions> fromConfig(const config::RedisConfig& config);
};

enum class BreakerState { kClosed, kOpen, kHalfOpen };

struct RedisCacheStats {
  std::uint64_t gets = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;  // nil replies (skips, timeouts and errors are counted apart)
  std::uint64_t sets = 0;
  std::uint64_t set_failures = 0;  // error replies to SET (e.g. OOM), timeouts, skips
  std::uint64_t timeouts = 0;
  std::uint64_t errors = 0;   // error replies and lost connections under an op
  std::uint64_t skipped = 0;  // answered without asking Redis (breaker, no connection, cap)
  std::uint64_t breaker_opens = 0;
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t disconnects = 0;
};

class RedisCache {
 public:
  RedisCache(boost::asio::any_io_executor executor, RedisCacheOptions options,
             const time::Clock& clock = time::RealClock::instance());
  // Calls stop().
  ~RedisCache();
  RedisCache(const RedisCache&) = delete;
  RedisCache& operator=(const RedisCache&) = delete;

  // Starts connecting (in the background, on the executor). Idempotent.
  void start();
  // Drops the connection, stops reconnecting and completes every pending op
  // (as miss/false). Call on the executor's thread before it is destroyed.
  void stop();

  // The value, or nullopt on a miss, a timeout, an error or while L2 is skipped.
  boost::asio::awaitable<std::optional<std::string>> get(std::string key);
  // SET key value PX ttl. False if it was not stored for any reason.
  boost::asio::awaitable<bool> set(std::string key, std::string value,
                                   std::chrono::milliseconds ttl);

  // EVAL `script` with `keys` (prefixed like get/set keys) and `args`: the
  // script's string reply, or nullopt on a timeout, an error reply, a lost
  // connection, a non-string reply or while Redis is skipped (at most 13 keys
  // and args in all). Used by the shared budget counters (proxy/cost).
  boost::asio::awaitable<std::optional<std::string>> eval(std::string_view script,
                                                          std::vector<std::string> keys,
                                                          std::vector<std::string> args);

  // Connected, handshake done and the breaker not open
  // (llmgate_cache_l2_available). Safe from any thread.
  bool available() const;
  BreakerState breakerState() const;  // this thread only
  RedisCacheStats stats() const;      // safe from any thread

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace llmgate::proxy::cache

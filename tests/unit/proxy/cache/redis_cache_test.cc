// RedisCache against a real redis-server that this test starts on a free
// port, stops, kills, SIGSTOPs and fills up (R35-R38). Skipped when
// redis-server is not installed.
#include "proxy/cache/redis_cache.h"

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "boost/asio/co_spawn.hpp"
#include "boost/asio/io_context.hpp"
#include "gtest/gtest.h"

namespace llmgate::proxy::cache {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool haveRedisServer() { return std::system("command -v redis-server >/dev/null 2>&1") == 0; }

// A redis-server child process, stopped by its PID.
class RedisServer {
 public:
  explicit RedisServer(int port) : port_(port) {}
  ~RedisServer() { stop(); }

  bool start() {
    stop();
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string port = std::to_string(port_);
      ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--loglevel", "warning", nullptr);
      ::_exit(127);
    }
    // Wait (at most 5 s) until it answers PING.
    const auto until = Clock::now() + 5s;
    while (Clock::now() < until) {
      if (auto reply = command({"PING"}); reply && *reply == "PONG") return true;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "redis-server did not answer PING on port " << port_ << " within 5 s";
    return false;
  }

  void stop(int sig = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

  // A synchronous command from the test thread (never from the code under test).
  std::optional<std::string> command(std::initializer_list<std::string> args) {
    timeval tv{0, 500000};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (c == nullptr || c->err) {
      if (c) redisFree(c);
      return std::nullopt;
    }
    redisSetTimeout(c, tv);
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
    std::optional<std::string> out;
    if (reply != nullptr) {
      if (reply->str)
        out = std::string(reply->str, reply->len);
      else
        out = std::to_string(reply->integer);
      freeReplyObject(reply);
    }
    redisFree(c);
    return out;
  }

  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

class RedisCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveRedisServer()) GTEST_SKIP() << "redis-server not installed";
    port_ = freePort();
    server_ = std::make_unique<RedisServer>(port_);
  }
  void TearDown() override {
    if (cache_) cache_->stop();
    io_.run_for(50ms);
    cache_.reset();
    server_.reset();
  }

  RedisCacheOptions options() {
    RedisCacheOptions o;
    o.endpoint = {.host = "localhost", .port = static_cast<std::uint16_t>(port_), .db = 1};
    o.timeout = 25ms;
    o.connect_timeout = 300ms;
    o.reconnect_min = 20ms;
    o.reconnect_max = 200ms;
    o.breaker_failures = 5;
    o.breaker_cooldown = 200ms;
    o.key_prefix = "test:";
    return o;
  }

  void makeCache() {
    cache_ = std::make_unique<RedisCache>(io_.get_executor(), options());
    cache_->start();
  }

  // Runs the io_context until `a` completes (at most 5 s).
  template <typename T>
  T run(asio::awaitable<T> a) {
    std::optional<T> result;
    asio::co_spawn(io_, std::move(a), [&](std::exception_ptr e, T value) {
      EXPECT_FALSE(e);
      result = std::move(value);
    });
    const auto until = Clock::now() + 5s;
    while (!result && Clock::now() < until) io_.run_one_for(10ms);
    EXPECT_TRUE(result) << "operation did not complete within 5 s";
    return result ? std::move(*result) : T{};
  }

  std::optional<std::string> get(const std::string& key) { return run(cache_->get(key)); }
  bool set(const std::string& key, const std::string& value, std::chrono::milliseconds ttl = 60s) {
    return run(cache_->set(key, value, ttl));
  }

  bool waitUntil(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
      if (pred()) return true;
      io_.run_for(10ms);
    }
    return pred();
  }

  template <typename F>
  static std::chrono::milliseconds timed(F&& f) {
    const auto start = Clock::now();
    f();
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  }

  asio::io_context io_;
  int port_ = 0;
  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisCache> cache_;
};

TEST_F(RedisCacheTest, RoundTripTtlAndDatabase) {
  ASSERT_TRUE(server_->start());
  makeCache();
  ASSERT_TRUE(waitUntil([&] { return cache_->available(); }, 3s)) << "never connected";
  EXPECT_TRUE(set("k", std::string("v\0binary", 8)));
  EXPECT_EQ(get("k"), std::string("v\0binary", 8));
  EXPECT_EQ(get("missing"), std::nullopt);
  // Stored in db 1 under the prefix.
  EXPECT_EQ(server_->command({"SELECT", "1"}), "OK");
  EXPECT_TRUE(set("ttl", "x", 100ms));
  EXPECT_EQ(get("ttl"), "x");
  waitUntil([] { return false; }, 250ms);
  EXPECT_EQ(get("ttl"), std::nullopt);
  const auto s = cache_->stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.connects, 1u);
}

TEST_F(RedisCacheTest, DownAtStartThenRecoversWithoutRestart) {
  makeCache();  // nothing listens on the port yet (R35)
  waitUntil([] { return false; }, 50ms);
  for (int i = 0; i < 20; ++i) {
    const auto took = timed([&] { EXPECT_EQ(get("k"), std::nullopt); });
    EXPECT_LT(took, 5ms);
  }
  EXPECT_FALSE(cache_->available());
  EXPECT_GE(cache_->stats().breaker_opens, 1u);
  ASSERT_TRUE(server_->start());
  ASSERT_TRUE(waitUntil([&] { return cache_->available(); }, 3s)) << "did not reconnect";
  EXPECT_TRUE(set("k", "v"));
  EXPECT_EQ(get("k"), "v");
}

TEST_F(RedisCacheTest, KilledMidTrafficThenRestarted) {
  ASSERT_TRUE(server_->start());
  makeCache();
  ASSERT_TRUE(waitUntil([&] { return cache_->available(); }, 3s));
  EXPECT_TRUE(set("k", "v"));
  server_->stop(SIGKILL);  // R37
  waitUntil([&] { return !cache_->available(); }, 1s);
  for (int i = 0; i < 20; ++i) {
    const auto took = timed([&] { EXPECT_EQ(get("k"), std::nullopt); });
    EXPECT_LT(took, 5ms);
  }
  EXPECT_GE(cache_->stats().breaker_opens, 1u);
  EXPECT_GE(cache_->stats().disconnects, 1u);
  ASSERT_TRUE(server_->start());  // same port, empty data
  ASSERT_TRUE(waitUntil([&] { return cache_->available(); }, 3s)) << "did not reconnect";
  EXPECT_EQ(get("k"), std::nullopt);
  EXPECT_TRUE(set("k", "v2"));
  EXPECT_EQ(get("k"), "v2");
}

TEST_F(RedisCacheTest, HungServerNeverSlowsMoreThanTheTimeout) {
  ASSERT_TRUE(server_->start());
  makeCache();
  ASSERT_TRUE(waitUntil([&] { return cache_->available(); }, 3s));
  EXPECT_TRUE(set("k", "v"));
  server_->pause();  // R36: SIGSTOP
  int slow = 0;
  for (int i = 0; i < 40; ++i) {
    const auto took = timed([&] { EXPECT_EQ(get("k"), std::nullopt); });
    EXPECT_LT(took, 25ms + 15ms) << "op " << i;
    if (took >= 20ms) ++slow;
  }
  // Only the ops before the breaker opened (and an occasional probe) waited.
  EXPECT_LE(slow, 5 + 2);
  EXPECT_GE(cache_->stats().timeouts, 5u);
  EXPECT_GE(cache_->stats().breaker_opens, 1u);
  EXPECT_FALSE(cache_->available());
  server_->resume();
  ASSERT_TRUE(waitUntil(
      [&] {
        get("probe");  // lets the half-open probe run
        return cache_->available();
      },
      5s))
      << "breaker never closed after SIGCONT";
  EXPECT_EQ(get("k"), "v");
}

TEST_F(RedisCacheTest, OutOfMemoryFailsWritesButReadsStillHit) {
  ASSERT_TRUE(server_->start());
  makeCache();
  ASSERT_TRUE(waitUntil([&] { return cache_->available(); }, 3s));
  EXPECT_TRUE(set("before", "v"));
  ASSERT_EQ(server_->command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}), "OK");
  ASSERT_EQ(server_->command({"CONFIG", "SET", "maxmemory", "1mb"}), "OK");  // R38
  const std::string big(200 * 1024, 'x');
  int failed = 0;
  for (int i = 0; i < 20; ++i) {
    if (!set("big" + std::to_string(i), big)) ++failed;
  }
  EXPECT_GT(failed, 0);
  EXPECT_EQ(cache_->stats().set_failures, static_cast<std::uint64_t>(failed));
  EXPECT_EQ(get("before"), "v");
  EXPECT_TRUE(cache_->available());  // OOM is an answer, not an outage
  EXPECT_EQ(cache_->stats().breaker_opens, 0u);
}

TEST_F(RedisCacheTest, WrongPasswordNeverConnects) {
  ASSERT_TRUE(server_->start());
  ASSERT_EQ(server_->command({"CONFIG", "SET", "requirepass", "right"}), "OK");
  auto o = options();
  o.password = "wrong";
  cache_ = std::make_unique<RedisCache>(io_.get_executor(), o);
  cache_->start();
  waitUntil([] { return false; }, 300ms);
  EXPECT_FALSE(cache_->available());
  EXPECT_GE(cache_->stats().connect_failures, 1u);
  EXPECT_EQ(get("k"), std::nullopt);

  o.password = "right";
  cache_->stop();
  cache_ = std::make_unique<RedisCache>(io_.get_executor(), o);
  cache_->start();
  ASSERT_TRUE(waitUntil([&] { return cache_->available(); }, 3s));
  EXPECT_TRUE(set("k", "v"));
  EXPECT_EQ(get("k"), "v");
}

}  // namespace
}  // namespace llmgate::proxy::cache

// The drain deadline (R65) seen from the upstream side: UpstreamPools::abort()
// ends an exchange that is waiting on a provider with kShuttingDown at once,
// refuses later ones, and cuts a retry backoff short.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "proxy/runtime/upstream_pools.h"
#include "proxy/upstream/upstream_call.h"

namespace llmgate::proxy::runtime {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using upstream::UpstreamErrorKind;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// A provider that accepts, reads and never answers.
class SilentProvider {
 public:
  explicit SilentProvider(asio::io_context& ioc)
      : acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(ioc, accept(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& socket : sockets_) socket->close(ignored);
  }

 private:
  asio::awaitable<void> accept() {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
      if (ec) co_return;
      sockets_.push_back(std::make_unique<tcp::socket>(std::move(socket)));
    }
  }
  tcp::acceptor acceptor_;
  std::vector<std::unique_ptr<tcp::socket>> sockets_;
};

config::ProviderConfig providerAt(std::uint16_t port) {
  config::ProviderConfig provider;
  provider.name = "silent";
  provider.base_url = "http://127.0.0.1:" + std::to_string(port);
  provider.endpoint = {.tls = false, .host = "127.0.0.1", .port = port, .base_path = ""};
  provider.allow_private_network = true;
  return provider;
}

upstream::UpstreamCall::Request chatRequest() {
  upstream::UpstreamCall::Request request;
  upstream::appendRequestLine(request.head, "POST", "/v1/chat/completions");
  upstream::appendField(request.head, "Host", "127.0.0.1");
  request.body = "{}";
  return request;
}

upstream::CallDeadlines farDeadlines() {
  const auto now = time::steadyNow();
  return {.first_byte = now + std::chrono::seconds(30), .total = now + std::chrono::seconds(30)};
}

class UpstreamAbortTest : public ::testing::Test {
 protected:
  asio::io_context ioc_;
  asio::ssl::context tls_{asio::ssl::context::tls_client};
  SilentProvider provider_{ioc_};
  UpstreamPools pools_{ioc_, tls_, 1};
  config::ProviderConfig config_ = providerAt(provider_.port());
};

TEST_F(UpstreamAbortTest, AWaitingExchangeEndsAtOnceWithShuttingDown) {
  std::optional<UpstreamErrorKind> first, later;
  time::SteadyTime aborted_at{}, ended_at{};
  asio::co_spawn(
      ioc_,
      [&]() -> asio::awaitable<void> {
        upstream::UpstreamCall call(pools_.poolFor(config_), farDeadlines());
        auto request = chatRequest();
        upstream::UpstreamError error = co_await call.start(request);
        ended_at = time::steadyNow();
        first = error.kind;
        upstream::UpstreamCall next(pools_.poolFor(config_), farDeadlines());
        auto request2 = chatRequest();
        upstream::UpstreamError refused = co_await next.start(request2);
        later = refused.kind;
        provider_.stop();
      },
      asio::detached);
  asio::steady_timer timer(ioc_, milliseconds(100));
  timer.async_wait([&](const boost::system::error_code&) {
    aborted_at = time::steadyNow();
    pools_.abort();
  });
  ioc_.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(first.has_value()) << "the exchange did not end after abort()";
  EXPECT_EQ(*first, UpstreamErrorKind::kShuttingDown);
  EXPECT_LT(ended_at - aborted_at, milliseconds(500));
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(*later, UpstreamErrorKind::kShuttingDown);
}

TEST_F(UpstreamAbortTest, ABackoffIsCutShort) {
  std::optional<bool> completed;
  time::SteadyTime start = time::steadyNow(), ended_at{};
  asio::co_spawn(
      ioc_,
      [&]() -> asio::awaitable<void> {
        const config::Duration wait = milliseconds(5000);
        completed = co_await pools_.backoff(wait);
        ended_at = time::steadyNow();
        provider_.stop();
      },
      asio::detached);
  asio::steady_timer timer(ioc_, milliseconds(50));
  timer.async_wait([&](const boost::system::error_code&) { pools_.abort(); });
  ioc_.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(completed.has_value());
  EXPECT_FALSE(*completed);
  EXPECT_LT(ended_at - start, milliseconds(1000));
}

TEST_F(UpstreamAbortTest, ABackoffWithoutAbortRunsItsCourse) {
  std::optional<bool> completed;
  asio::co_spawn(
      ioc_,
      [&]() -> asio::awaitable<void> {
        const config::Duration wait = milliseconds(30);
        completed = co_await pools_.backoff(wait);
        provider_.stop();
      },
      asio::detached);
  ioc_.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(completed.has_value());
  EXPECT_TRUE(*completed);
}

}  // namespace
}  // namespace llmgate::proxy::runtime

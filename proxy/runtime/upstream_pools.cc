#include "proxy/runtime/upstream_pools.h"

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "common/text/str_cat.h"

namespace llmgate::proxy::runtime {
namespace {

constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace

std::shared_ptr<upstream::UpstreamPool> UpstreamPools::poolFor(
    const config::ProviderConfig& provider) {
  Entry& entry = pools_[provider.name];
  if (entry.pool == nullptr || !entry.fingerprint.matches(provider)) {
    if (entry.pool) {
      entry.pool->shutdown();
      // Requests still running on it are reached by abort() through this.
      std::erase_if(retired_, [](const auto& pool) { return pool.expired(); });
      retired_.push_back(entry.pool);
    }
    const std::uint32_t per_worker = (provider.max_connections + divisor_ - 1) / divisor_;
    entry.pool = std::make_shared<upstream::UpstreamPool>(ioc_, tls_, provider, per_worker);
    if (aborted_) entry.pool->abort();
    entry.fingerprint = Fingerprint{provider.base_url, provider.max_connections,
                                    provider.allow_private_network, provider.timeouts.connect};
  }
  return entry.pool;
}

void UpstreamPools::shutdown() {
  for (auto& [name, entry] : pools_) entry.pool->shutdown();
}

boost::asio::awaitable<bool> UpstreamPools::backoff(config::Duration wait) {
  if (aborted_) co_return false;
  boost::asio::steady_timer timer(ioc_, wait);
  backoffs_.insert(&timer);
  auto [ec] = co_await timer.async_wait(kTuple);
  backoffs_.erase(&timer);
  co_return !ec;
}

void UpstreamPools::abort() {
  aborted_ = true;
  for (boost::asio::steady_timer* timer : backoffs_) timer->cancel();
  for (auto& [name, entry] : pools_) entry.pool->abort();
  for (const auto& retired : retired_) {
    if (auto pool = retired.lock()) pool->abort();
  }
}

}  // namespace llmgate::proxy::runtime

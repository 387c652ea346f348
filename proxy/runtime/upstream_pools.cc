#include "proxy/runtime/upstream_pools.h"

#include "common/text/str_cat.h"

namespace llmgate::proxy::runtime {

std::shared_ptr<upstream::UpstreamPool> UpstreamPools::poolFor(
    const config::ProviderConfig& provider) {
  std::string fingerprint =
      strCat(provider.base_url, "|", provider.max_connections, "|", provider.allow_private_network,
             "|", provider.timeouts.connect.count());
  Entry& entry = pools_[provider.name];
  if (entry.pool == nullptr || entry.fingerprint != fingerprint) {
    if (entry.pool) {
      entry.pool->shutdown();
      // Requests still running on it are reached by abort() through this.
      std::erase_if(retired_, [](const auto& pool) { return pool.expired(); });
      retired_.push_back(entry.pool);
    }
    const std::uint32_t per_worker = (provider.max_connections + divisor_ - 1) / divisor_;
    entry.pool = std::make_shared<upstream::UpstreamPool>(ioc_, tls_, provider, per_worker);
    if (aborted_) entry.pool->abort();
    entry.fingerprint = std::move(fingerprint);
  }
  return entry.pool;
}

void UpstreamPools::shutdown() {
  for (auto& [name, entry] : pools_) entry.pool->shutdown();
}

void UpstreamPools::abort() {
  aborted_ = true;
  for (auto& [name, entry] : pools_) entry.pool->abort();
  for (const auto& retired : retired_) {
    if (auto pool = retired.lock()) pool->abort();
  }
}

}  // namespace llmgate::proxy::runtime

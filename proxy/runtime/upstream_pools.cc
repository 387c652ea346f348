#include "proxy/runtime/upstream_pools.h"

#include "common/text/str_cat.h"

namespace llmgate::proxy::runtime {

std::shared_ptr<upstream::UpstreamPool> UpstreamPools::poolFor(
    const config::ProviderConfig& provider) {
  Entry& entry = pools_[provider.name];
  if (entry.pool == nullptr || !entry.fingerprint.matches(provider)) {
    if (entry.pool) entry.pool->shutdown();
    const std::uint32_t per_worker = (provider.max_connections + divisor_ - 1) / divisor_;
    entry.pool = std::make_shared<upstream::UpstreamPool>(ioc_, tls_, provider, per_worker);
    entry.fingerprint = Fingerprint{provider.base_url, provider.max_connections,
                                    provider.allow_private_network, provider.timeouts.connect};
  }
  return entry.pool;
}

void UpstreamPools::shutdown() {
  for (auto& [name, entry] : pools_) entry.pool->shutdown();
}

}  // namespace llmgate::proxy::runtime

#include "proxy/telemetry/proxy_metrics.h"

#include <sstream>

#include "prometheus/counter.h"
#include "prometheus/text_serializer.h"

namespace llmgate::proxy::telemetry {
namespace {

prometheus::Gauge& gauge(prometheus::Registry& registry, const std::string& name,
                         const std::string& help, const prometheus::Labels& labels = {}) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add(labels);
}

}  // namespace

ProxyMetrics::ProxyMetrics(const server::ServerState& state)
    : state_(state),
      registry_(std::make_shared<prometheus::Registry>()),
      inflight_(gauge(*registry_, "llmgate_inflight_requests",
                      "Client requests being handled right now.")),
      connections_(gauge(*registry_, "llmgate_open_connections",
                         "Client connections open on the traffic listener.")),
      ready_(gauge(*registry_, "llmgate_ready", "1 when /readyz answers 200.")),
      cache_entries_(gauge(*registry_, "llmgate_cache_entries", "Answers held in the cache tier.",
                           {{"tier", "l1"}})),
      cache_evictions_(prometheus::BuildCounter()
                           .Name("llmgate_cache_evictions_total")
                           .Help("Entries evicted from the cache tier to stay under its byte cap.")
                           .Register(*registry_)
                           .Add({{"tier", "l1"}})),
      upstream_connections_(gauge(*registry_, "llmgate_upstream_connections",
                                  "Connections to providers open now (all pools, all workers).")),
      tenant_spend_family_(prometheus::BuildGauge()
                               .Name("llmgate_budget_spent_usd")
                               .Help("USD spent today by tenants that have a daily budget.")
                               .Register(*registry_)),
      tenant_budget_family_(prometheus::BuildGauge()
                                .Name("llmgate_budget_limit_usd")
                                .Help("Daily budget of tenants that have one.")
                                .Register(*registry_)),
      usd_per_1k_chars_family_(
          prometheus::BuildGauge()
              .Name("llmgate_usd_per_1k_chars")
              .Help("Input USD actually paid per 1,000 prompt characters, by model and the "
                    "prompt's dominant script, from the usage providers returned.")
              .Register(*registry_)),
      estimate_accuracy_family_(
          prometheus::BuildGauge()
              .Name("llmgate_token_estimate_accuracy")
              .Help("Calibrated prompt-token estimate / the provider's usage.prompt_tokens, "
                    "for the latest answer of each model (1 = exact).")
              .Register(*registry_)) {
  gauge(*registry_, "llmgate_build_info", "Build information; the value is always 1.",
        {{"version", LLMGATE_VERSION}})
      .Set(1);
}

void ProxyMetrics::setCacheEntries(double entries) { cache_entries_.Set(entries); }

void ProxyMetrics::setCacheEvictionsTotal(std::uint64_t evictions) {
  if (evictions > evictions_seen_) {
    cache_evictions_.Increment(static_cast<double>(evictions - evictions_seen_));
    evictions_seen_ = evictions;
  }
}

void ProxyMetrics::setUpstreamConnections(double connections) {
  upstream_connections_.Set(connections);
}

void ProxyMetrics::setTenantSpend(const std::string& tenant, double usd_today, double limit_usd) {
  auto [it, inserted] = tenant_gauges_.try_emplace(tenant, nullptr, nullptr);
  if (inserted) {
    it->second.first = &tenant_spend_family_.Add({{"tenant", tenant}});
    it->second.second = &tenant_budget_family_.Add({{"tenant", tenant}});
  }
  it->second.first->Set(usd_today);
  it->second.second->Set(limit_usd);
}

void ProxyMetrics::setUsdPer1kChars(const std::string& model, const std::string& script,
                                    double usd) {
  auto [it, inserted] = usd_per_1k_chars_.try_emplace({model, script}, nullptr);
  if (inserted) it->second = &usd_per_1k_chars_family_.Add({{"model", model}, {"script", script}});
  it->second->Set(usd);
}

void ProxyMetrics::setEstimateAccuracy(const std::string& model, double ratio) {
  auto [it, inserted] = estimate_accuracy_.try_emplace(model, nullptr);
  if (inserted) it->second = &estimate_accuracy_family_.Add({{"model", model}});
  it->second->Set(ratio);
}

std::string ProxyMetrics::scrape() {
  if (refresh_) refresh_(*this);
  inflight_.Set(static_cast<double>(state_.inflight_requests.load(std::memory_order_relaxed)));
  connections_.Set(static_cast<double>(state_.open_connections.load(std::memory_order_relaxed)));
  ready_.Set(state_.ready.load() && !state_.draining.load() ? 1 : 0);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace llmgate::proxy::telemetry

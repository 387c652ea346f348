#include "proxy/telemetry/prometheus_stats.h"

#include <string>

#include "common/time/clock.h"

namespace llmgate::proxy::telemetry {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

Family<Counter>& counter(prometheus::Registry& r, const std::string& name,
                         const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
Family<Gauge>& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}
Family<Histogram>& histogram(prometheus::Registry& r, const std::string& name,
                             const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

// Prometheus drops a label whose value is empty; "none" keeps the series shape.
std::string_view orNone(std::string_view v) { return v.empty() ? std::string_view("none") : v; }

std::string_view statusClass(int status) {
  static constexpr std::array<std::string_view, 6> kClasses = {"other", "1xx", "2xx",
                                                               "3xx",   "4xx", "5xx"};
  const int cls = status / 100;
  return cls >= 1 && cls <= 5 ? kClasses[static_cast<std::size_t>(cls)] : kClasses[0];
}

// The cache label is an enum in the record's contract; anything else is "other".
std::string_view cacheLabel(std::string_view cache) {
  for (std::string_view known : {"hit-l1", "hit-l2", "miss", "bypass", "coalesced", "none"}) {
    if (cache == known) return known;
  }
  return cache.empty() ? std::string_view("none") : std::string_view("other");
}

// Answers that made no upstream call of their own add no tokens or cost.
bool servedWithoutUpstream(std::string_view cache) {
  return cache == "hit-l1" || cache == "hit-l2" || cache == "coalesced";
}

void add(Counter* c, double v) {
  if (v > 0) c->Increment(v);
}

}  // namespace

const Histogram::BucketBoundaries& latencyBuckets() {
  static const Histogram::BucketBoundaries kBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1,  1.5, 2,
      3,     5,    7.5,   10,   15,  20,   30,  45,   60, 90,  120};
  return kBuckets;
}

PrometheusStats::PrometheusStats(prometheus::Registry& r, AccessLog* access_log)
    : requests_family_(counter(r, "llmgate_requests_total",
                               "Client requests answered, by route, model, provider, status "
                               "class and cache result.")),
      duration_family_(histogram(r, "llmgate_request_duration_seconds",
                                 "Time from request received to last byte sent.")),
      ttft_family_(histogram(r, "llmgate_time_to_first_token_seconds",
                             "Time from request received to the first token (first SSE data "
                             "event, or first body byte of a non-streamed answer).")),
      attempts_family_(counter(r, "llmgate_upstream_attempts_total",
                               "Upstream attempts by outcome (success, connect_error, timeout, "
                               "rate_limited, server_error, client_error, quota).")),
      retries_family_(counter(r, "llmgate_retries_total",
                              "Retries on the same provider, by the outcome that caused them.")),
      budget_exhausted_family_(counter(r, "llmgate_retry_budget_exhausted_total",
                                       "Retries refused because the retry budget was spent.")),
      failovers_family_(counter(r, "llmgate_failovers_total",
                                "Failovers from one model to the next, by reason.")),
      ejections_family_(counter(r, "llmgate_ejections_total",
                                "Times an upstream target was ejected by outlier detection.")),
      ejected_family_(gauge(r, "llmgate_upstream_ejected", "1 while the target is ejected.")),
      truncations_family_(counter(r, "llmgate_truncations_total",
                                  "Requests over the model's context window, by the action "
                                  "taken (pass, reprocess, error).")),
      decisions_family_(counter(r, "llmgate_route_decisions_total",
                                "Routing decisions, by route (alias or model) and the rule "
                                "that chose the targets (1..N, default, model).")),
      budget_refused_family_(counter(r, "llmgate_budget_refusals_total",
                                     "Requests refused because the tenant's daily budget was "
                                     "spent (tenant: configured tenants only).")),
      streams_cut_family_(counter(r, "llmgate_streams_cut_total",
                                  "Streams that failed after the first byte reached the client.")),
      tokens_family_(counter(r, "llmgate_tokens_total",
                             "Tokens billed by providers, by kind (prompt, cached_prompt, "
                             "completion); cached_prompt is part of prompt.")),
      cost_family_(counter(r, "llmgate_cost_usd_total", "Provider cost in US dollars.")),
      cache_lookups_family_(counter(r, "llmgate_cache_lookups_total",
                                    "Response-cache lookups by tier (l1, l2) and result (hit, "
                                    "miss, error).")),
      cache_bytes_family_(gauge(r, "llmgate_cache_bytes", "Bytes held by a cache tier.")),
      pings_family_(counter(r, "llmgate_keepalive_pings_total",
                            "Keep-alive pings to providers, by result (ok, error).")),
      cold_start_family_(histogram(r, "llmgate_cold_start_first_byte_seconds",
                                   "Time to the first byte of a keep-alive ping's answer.")),
      overrides_family_(gauge(r, "llmgate_route_overrides",
                              "1 while a control-plane override sends the model's traffic to "
                              "the target.")),
      cache_saved_(counter(r, "llmgate_cache_saved_usd_total",
                           "Provider cost avoided by answers served from the cache.")
                       .Add({})),
      cache_l2_available_(gauge(r, "llmgate_cache_l2_available",
                                "1 while the L2 (Redis) cache answers; absent without L2.")),
      route_version_(
          gauge(r, "llmgate_route_version", "Version of the route table in use.").Add({})),
      control_connected_(gauge(r, "llmgate_control_connected",
                               "1 while connected to the control plane; absent without one.")),
      access_log_dropped_(counter(r, "llmgate_access_log_dropped_total",
                                  "Access-log lines dropped because the writer fell behind.")
                              .Add({})),
      access_log_(access_log) {}

void PrometheusStats::LazyGauge::set(double value) {
  std::call_once(once_, [this] { gauge_ = &family_.Add({}); });
  gauge_->Set(value);
}

PrometheusStats::ModelSeries PrometheusStats::modelSeries(std::string_view model,
                                                          std::string_view provider) {
  return models_.get({orNone(model), orNone(provider)}, [this](const auto& v) {
    const std::string m(v[0]);
    const std::string p(v[1]);
    const prometheus::Labels labels = {{"model", m}, {"provider", p}};
    auto tokens = [&](const char* kind) {
      return &tokens_family_.Add({{"model", m}, {"provider", p}, {"kind", kind}});
    };
    ModelSeries s;
    s.duration = &duration_family_.Add(labels, latencyBuckets());
    s.ttft = &ttft_family_.Add(labels, latencyBuckets());
    s.prompt_tokens = tokens("prompt");
    s.cached_prompt_tokens = tokens("cached_prompt");
    s.completion_tokens = tokens("completion");
    s.cost = &cost_family_.Add(labels);
    s.streams_cut = &streams_cut_family_.Add(labels);
    s.ejections = &ejections_family_.Add(labels);
    s.ejected = &ejected_family_.Add(labels);
    for (std::size_t i = 0; i < kOutcomes; ++i) {
      const std::string_view outcome = toString(static_cast<AttemptOutcome>(i));
      s.attempts[i] =
          &attempts_family_.Add({{"model", m}, {"provider", p}, {"outcome", std::string(outcome)}});
    }
    return s;
  });
}

void PrometheusStats::onRequest(const RequestRecord& r) {
  const std::string_view cache = cacheLabel(r.cache);
  requests_
      .get({orNone(r.route), orNone(r.model), orNone(r.provider), statusClass(r.status), cache},
           [this](const auto& v) {
             return &requests_family_.Add({{"route", std::string(v[0])},
                                           {"model", std::string(v[1])},
                                           {"provider", std::string(v[2])},
                                           {"code", std::string(v[3])},
                                           {"cache", std::string(v[4])}});
           })
      ->Increment();
  const ModelSeries s = modelSeries(r.model, r.provider);
  s.duration->Observe(r.duration_s);
  if (r.ttft_s) s.ttft->Observe(*r.ttft_s);
  if (!servedWithoutUpstream(cache)) {
    add(s.prompt_tokens, static_cast<double>(r.prompt_tokens));
    add(s.cached_prompt_tokens, static_cast<double>(r.cached_prompt_tokens));
    add(s.completion_tokens, static_cast<double>(r.completion_tokens));
    add(s.cost, r.cost_usd);
  }
  add(&cache_saved_, r.saved_usd);
  if (access_log_ != nullptr && !access_log_->push(r, time::systemNow())) {
    access_log_dropped_.Increment();
  }
}

void PrometheusStats::onUpstreamAttempt(std::string_view model, std::string_view provider,
                                        AttemptOutcome outcome) {
  const auto i = static_cast<std::size_t>(outcome);
  if (i < kOutcomes) modelSeries(model, provider).attempts[i]->Increment();
}

void PrometheusStats::onRetry(std::string_view provider, std::string_view reason) {
  retries_
      .get({orNone(provider), orNone(reason)},
           [this](const auto& v) {
             return &retries_family_.Add(
                 {{"provider", std::string(v[0])}, {"reason", std::string(v[1])}});
           })
      ->Increment();
}

void PrometheusStats::onRetryBudgetExhausted(std::string_view provider) {
  budget_exhausted_
      .get({orNone(provider)},
           [this](const auto& v) {
             return &budget_exhausted_family_.Add({{"provider", std::string(v[0])}});
           })
      ->Increment();
}

void PrometheusStats::onFailover(std::string_view from_model, std::string_view to_model,
                                 std::string_view reason) {
  failovers_
      .get({orNone(from_model), orNone(to_model), orNone(reason)},
           [this](const auto& v) {
             return &failovers_family_.Add({{"from", std::string(v[0])},
                                            {"to", std::string(v[1])},
                                            {"reason", std::string(v[2])}});
           })
      ->Increment();
}

void PrometheusStats::onEjection(std::string_view model, std::string_view provider) {
  modelSeries(model, provider).ejections->Increment();
}

void PrometheusStats::setEjected(std::string_view model, std::string_view provider, bool ejected) {
  modelSeries(model, provider).ejected->Set(ejected ? 1 : 0);
}

void PrometheusStats::onRouteDecision(std::string_view route, std::string_view rule) {
  decisions_
      .get({orNone(route), orNone(rule)},
           [this](const auto& v) {
             return &decisions_family_.Add(
                 {{"route", std::string(v[0])}, {"rule", std::string(v[1])}});
           })
      ->Increment();
}

void PrometheusStats::onBudgetRefused(std::string_view tenant) {
  budget_refused_
      .get({orNone(tenant)},
           [this](const auto& v) {
             return &budget_refused_family_.Add({{"tenant", std::string(v[0])}});
           })
      ->Increment();
}

void PrometheusStats::onTruncation(std::string_view model, std::string_view action) {
  truncations_
      .get({orNone(model), orNone(action)},
           [this](const auto& v) {
             return &truncations_family_.Add(
                 {{"model", std::string(v[0])}, {"action", std::string(v[1])}});
           })
      ->Increment();
}

void PrometheusStats::onStreamCut(std::string_view model, std::string_view provider) {
  modelSeries(model, provider).streams_cut->Increment();
}

void PrometheusStats::onCacheLookup(std::string_view tier, std::string_view result) {
  cache_lookups_
      .get({orNone(tier), orNone(result)},
           [this](const auto& v) {
             return &cache_lookups_family_.Add(
                 {{"tier", std::string(v[0])}, {"result", std::string(v[1])}});
           })
      ->Increment();
}

void PrometheusStats::setCacheBytes(std::string_view tier, double bytes) {
  cache_bytes_
      .get({orNone(tier)},
           [this](const auto& v) {
             return &cache_bytes_family_.Add({{"tier", std::string(v[0])}});
           })
      ->Set(bytes);
}

void PrometheusStats::setCacheL2Available(bool available) {
  cache_l2_available_.set(available ? 1 : 0);
}

void PrometheusStats::onKeepalivePing(std::string_view provider, bool ok, double first_byte_s) {
  const ProviderPings p = pings_.get({orNone(provider)}, [this](const auto& v) {
    const std::string name(v[0]);
    ProviderPings s;
    s.ok = &pings_family_.Add({{"provider", name}, {"result", "ok"}});
    s.failed = &pings_family_.Add({{"provider", name}, {"result", "error"}});
    s.first_byte = &cold_start_family_.Add({{"provider", name}}, latencyBuckets());
    return s;
  });
  if (ok) {
    p.ok->Increment();
    p.first_byte->Observe(first_byte_s);
  } else {
    p.failed->Increment();
  }
}

void PrometheusStats::setRouteVersion(std::uint64_t version) {
  route_version_.Set(static_cast<double>(version));
}

void PrometheusStats::setControlConnected(bool connected) {
  control_connected_.set(connected ? 1 : 0);
}

void PrometheusStats::setRouteOverride(std::string_view model, std::string_view target,
                                       bool active) {
  overrides_
      .get({orNone(model), orNone(target)},
           [this](const auto& v) {
             return &overrides_family_.Add(
                 {{"model", std::string(v[0])}, {"target", std::string(v[1])}});
           })
      ->Set(active ? 1 : 0);
}

}  // namespace llmgate::proxy::telemetry

// What the request path reports, one call per event. The implementation
// (prometheus-cpp families, handles resolved once per label set, the access
// log) sits behind this interface so the request code never sees a registry,
// and tests can count calls with a fake. Label values are configured names or
// small enums, never per-request values (bounded series, R67).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmgate::proxy::telemetry {

// One line of the access log and one sample of the request metrics.
struct RequestRecord {
  std::string_view request_id;
  std::string_view tenant;
  std::string_view route = "none";  // alias or model name the client asked for, "none" if unknown
  std::string_view model = "none";  // configured model that served, "none" before routing
  std::string_view provider = "none";  // configured provider that served
  std::string_view method;             // "POST"
  std::string_view path;               // "/v1/chat/completions"
  int status = 0;
  std::string_view error_code;  // "" on success, else the error.code sent
  int attempts = 0;
  std::string_view cache = "none";  // hit-l1 | hit-l2 | miss | bypass | coalesced | none
  bool stream = false;
  bool truncated = false;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t cached_prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  double cost_usd = 0;
  double saved_usd = 0;          // cost avoided by a cache hit
  double duration_s = 0;         // request received -> last byte sent
  std::optional<double> ttft_s;  // first data event (streams) or first body byte
  std::uint64_t routes_version = 0;
};

// Outcome of one upstream attempt (DESIGN.md metrics contract).
enum class AttemptOutcome {
  kSuccess,
  kConnectError,
  kTimeout,
  kRateLimited,
  kServerError,
  kClientError,
  kQuota,
};

std::string_view toString(AttemptOutcome outcome);

class Stats {
 public:
  virtual ~Stats() = default;

  virtual void onRequest(const RequestRecord& record) = 0;
  virtual void onUpstreamAttempt(std::string_view model, std::string_view provider,
                                 AttemptOutcome outcome) = 0;
  // A successful attempt's duration (request written -> last byte relayed or
  // read) and, for a streamed one, its time to first data event. For the
  // control-plane telemetry; Prometheus measures whole requests instead.
  virtual void onAttemptTiming(std::string_view model, std::string_view provider, double duration_s,
                               std::optional<double> ttft_s) {}
  // reason: the AttemptOutcome name that caused the retry, e.g. "rate_limited".
  virtual void onRetry(std::string_view provider, std::string_view reason) = 0;
  virtual void onRetryBudgetExhausted(std::string_view provider) = 0;
  virtual void onFailover(std::string_view from_model, std::string_view to_model,
                          std::string_view reason) = 0;
  virtual void onEjection(std::string_view model, std::string_view provider) = 0;
  virtual void setEjected(std::string_view model, std::string_view provider, bool ejected) = 0;
  // action: pass | reprocess | error
  virtual void onTruncation(std::string_view model, std::string_view action) = 0;
  virtual void onStreamCut(std::string_view model, std::string_view provider) = 0;
  // tier: l1 | l2; result: hit | miss | error
  virtual void onCacheLookup(std::string_view tier, std::string_view result) = 0;
  virtual void setCacheBytes(std::string_view tier, double bytes) = 0;
  virtual void setCacheL2Available(bool available) = 0;
  virtual void onKeepalivePing(std::string_view provider, bool ok, double first_byte_s) = 0;
  // route: a configured alias or model name; rule: "1".."N", "default" or "model".
  virtual void onRouteDecision(std::string_view route, std::string_view rule) {}
  // A tenant over its daily budget was refused (tenant: a configured tenant).
  virtual void onBudgetRefused(std::string_view tenant) {}
};

// Does nothing: for tests and tools that do not measure.
class NullStats final : public Stats {
 public:
  void onRequest(const RequestRecord&) override {}
  void onUpstreamAttempt(std::string_view, std::string_view, AttemptOutcome) override {}
  void onRetry(std::string_view, std::string_view) override {}
  void onRetryBudgetExhausted(std::string_view) override {}
  void onFailover(std::string_view, std::string_view, std::string_view) override {}
  void onEjection(std::string_view, std::string_view) override {}
  void setEjected(std::string_view, std::string_view, bool) override {}
  void onTruncation(std::string_view, std::string_view) override {}
  void onStreamCut(std::string_view, std::string_view) override {}
  void onCacheLookup(std::string_view, std::string_view) override {}
  void setCacheBytes(std::string_view, double) override {}
  void setCacheL2Available(bool) override {}
  void onKeepalivePing(std::string_view, bool, double) override {}
};

}  // namespace llmgate::proxy::telemetry

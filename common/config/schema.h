// The validated, immutable shape of llmgate's configuration (../shared/DESIGN.md,
// "Configuration"). Produced only by loadConfig(); every field has its final
// value (defaults applied, per-provider overrides merged, secrets resolved).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace re2 {
class RE2;
}

namespace llmgate::config {

using Duration = std::chrono::milliseconds;

// A value read from the environment that must never be printed, logged or
// serialized. `env` (the variable's name) is what /config shows.
struct Secret {
  std::string env;
  std::string value;
  bool empty() const { return value.empty(); }
};

struct ServerConfig {
  std::string listen = "0.0.0.0:8080";
  std::string admin_listen = "127.0.0.1:9901";
  int workers = 0;  // 0: one per core
  std::uint64_t max_request_bytes = 4ull << 20;
  std::uint32_t max_header_bytes = 16u << 10;
  std::uint32_t max_connections = 10000;  // per process, client side
  Duration drain_timeout = std::chrono::seconds(30);
  Duration request_header_timeout = std::chrono::seconds(10);
  Duration request_body_timeout = std::chrono::seconds(30);
  Duration idle_timeout = std::chrono::seconds(60);
  // How often the --config file is checked for changes (0: not watched).
  Duration config_watch_interval = std::chrono::seconds(2);
};

struct Budget {
  std::optional<double> usd_per_day;
  std::optional<double> usd_per_minute;
  // `when: {budget: low}` holds once this share of a window's limit is spent.
  double low_at_percent = 80;
};

struct ClientConfig {
  Secret key;  // from key_env
  std::string tenant;
  Budget budget;
};

struct Timeouts {
  Duration connect = std::chrono::seconds(2);
  Duration first_byte = std::chrono::seconds(30);
  Duration stream_idle = std::chrono::seconds(60);
  Duration total = std::chrono::seconds(300);
};

struct RetryPolicy {
  int max_attempts = 3;
  Duration base_delay = std::chrono::milliseconds(100);
  Duration max_delay = std::chrono::seconds(8);
  double budget_percent = 20;
};

struct KeepalivePing {
  Duration interval = std::chrono::seconds(60);
  std::string model;
};

enum class ProviderKind { kOpenAI, kDeepSeek, kDashScope, kMistral, kAnthropic };

// "openai", "deepseek", ... as written in the config.
const char* toString(ProviderKind kind);

// base_url split once at load time.
struct UpstreamEndpoint {
  bool tls = true;           // https
  std::string host;          // as written (name or IP literal, no brackets)
  std::uint16_t port = 443;  // explicit or scheme default
  std::string base_path;     // "" or "/v1" etc., never ends with '/'
};

struct ProviderConfig {
  std::string name;
  ProviderKind kind = ProviderKind::kOpenAI;
  std::string base_url;
  UpstreamEndpoint endpoint;
  Secret api_key;  // from api_key_env; may be empty (local models)
  std::uint32_t max_connections = 64;
  bool allow_private_network = false;
  Timeouts timeouts;  // global timeouts with this provider's overrides applied
  RetryPolicy retry;  // global retry with this provider's overrides applied
  std::optional<KeepalivePing> keepalive_ping;
};

struct Price {
  double input = 0;         // USD per million prompt tokens (cache miss)
  double cached_input = 0;  // USD per million cached prompt tokens (defaults to input)
  double output = 0;        // USD per million completion tokens
};

struct ModelConfig {
  std::string name;  // what clients send as "model"
  std::string provider;
  std::string upstream_model;  // what the provider is sent (defaults to name)
  std::uint32_t context_window = 8192;
  std::uint32_t max_output_tokens = 4096;
  Price price_per_mtok;
  std::vector<std::string> strengths;
  std::vector<std::string> fallbacks;
  std::optional<Duration> latency_hint;
};

// One rule's conditions (docs/ROUTING.md, "Rule language"): every one that
// is set must hold (AND); within a list, any entry may match (OR).
struct RouteMatch {
  std::vector<std::string> task;  // any of
  std::optional<std::uint64_t> min_prompt_tokens;
  std::optional<std::uint64_t> max_prompt_tokens;
  std::optional<bool> tools;  // a non-empty `tools` array present (true) or absent (false)
  // `response_format: true|false` (present or not), or a list of types
  // (`json_object`, `json_schema`, `text`): present with one of them.
  std::optional<bool> response_format;
  std::vector<std::string> response_format_types;
  std::vector<std::string> tenant;  // any of
  // RE2 on the last user message's text, compiled once by the loader (never
  // null when `last_user_message` is set); unanchored search.
  std::string last_user_message;
  std::shared_ptr<const re2::RE2> last_user_message_re;
  bool budget_low = false;  // `budget: low`
};

// One arm of a weighted split (`rules[].split`).
struct RouteSplit {
  std::uint32_t weight = 0;
  std::vector<std::string> targets;
};

struct RouteRule {
  RouteMatch when;
  std::vector<std::string> targets;  // model names, in order of preference
  std::vector<RouteSplit> split;     // instead of `targets`: one arm chosen per request
};

struct RouteConfig {
  std::string name;  // the alias clients send as "model"
  std::vector<RouteRule> rules;
  std::vector<std::string> default_targets;
};

struct FailoverConfig {
  int eject_after = 5;
  Duration eject_for = std::chrono::seconds(30);
  std::string when_all_ejected = "fail_fast";  // fail_fast | least_recently_ejected
};

struct TruncationConfig {
  std::string action = "pass";  // pass | reprocess | error
  std::string reprocess_on;     // a model name when action == reprocess
};

struct RedisConfig {
  std::string url;
  Duration ttl = std::chrono::hours(1);
  Duration timeout = std::chrono::milliseconds(25);
  std::optional<Secret> password;  // from password_env (Redis AUTH); never in `url`
};

struct CacheConfig {
  std::string mode = "deterministic";  // deterministic | always | off
  std::uint64_t l1_max_bytes = 256ull << 20;
  Duration l1_ttl = std::chrono::hours(1);
  std::optional<RedisConfig> redis;
};

// PEM files for mTLS to the control plane (paths resolved against the config's folder).
struct TlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

struct ControlPlaneConfig {
  std::string address;
  std::string node_id_env = "POD_NAME";
  Duration report_interval = std::chrono::seconds(5);
  std::optional<Secret> token;  // from token_env
  std::string cache_file;
  std::optional<TlsFiles> tls;
  // Ceiling of the jittered reconnect backoff (starts at 500 ms, doubles).
  Duration reconnect_max = std::chrono::seconds(30);
  // HTTP/2 keepalive on the channel: a ping after this long without data,
  // the connection given up when its answer takes longer than
  // keepalive_timeout (a blackholed control plane, R33).
  Duration keepalive_time = std::chrono::seconds(30);
  Duration keepalive_timeout = std::chrono::seconds(10);
};

// A temporary routing change pushed by the control plane (route_discovery.proto
// `Override`). Applied by the router on top of routes and fallbacks; an expired
// one is ignored on the proxy's own clock.
struct RouteOverride {
  enum class Action { kShift, kPin, kDrain };
  std::string id;
  std::string subject;  // a model name (shift, drain), or a model or alias (pin)
  Action action = Action::kShift;
  std::string to;       // shift and pin: the model that serves instead
  double weight = 1.0;  // shift: the share of the subject's requests moved, (0, 1]
  std::optional<std::chrono::system_clock::time_point> expires_at;
  std::string origin;  // "operator" | "policy"
  std::string reason;
};

struct LoggingConfig {
  std::string level = "info";         // debug | info | warn | error
  std::string access_log = "stdout";  // stdout | off | a file path
  bool log_prompts = false;
};

struct Config {
  ServerConfig server;
  std::vector<ClientConfig> clients;  // empty: every request is tenant "default"
  std::vector<ProviderConfig> providers;
  std::vector<ModelConfig> models;
  std::vector<RouteConfig> routes;
  RetryPolicy retry;
  Timeouts timeouts;
  FailoverConfig failover;
  TruncationConfig truncation;
  CacheConfig cache;
  std::optional<ControlPlaneConfig> control_plane;
  // Set only by a control-plane snapshot: its overrides and version
  // ("" while the proxy serves its own file's models and routes).
  std::vector<RouteOverride> overrides;
  std::string routes_version;
  LoggingConfig logging;
  std::string source;  // file path, or "<embedded default>"

  const ProviderConfig* findProvider(std::string_view name) const;
  const ModelConfig* findModel(std::string_view name) const;
  const RouteConfig* findRoute(std::string_view name) const;
};

}  // namespace llmgate::config

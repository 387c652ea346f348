#include "common/config/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/config/schema.h"
#include "tests/unit/common/config/test_env.h"

namespace llmgate::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using test::fakeEnv;
using test::lines;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

// The DESIGN.md example, completed so that every name it uses exists.
constexpr char kDesignExample[] = R"yaml(
server:   {listen: "0.0.0.0:8080", admin_listen: "127.0.0.1:9901", workers: 0,
           max_request_bytes: 4MiB, drain_timeout: 30s}
clients:  [{key_env: TEAM_A_KEY, tenant: team-a, budget: {usd_per_day: 50}}]
providers:
  - {name: deepseek, kind: deepseek, base_url: "https://api.deepseek.com",
     api_key_env: DEEPSEEK_API_KEY, max_connections: 64,
     timeouts: {connect: 2s, first_byte: 30s, total: 300s},
     keepalive_ping: {interval: 60s, model: deepseek-v3}}
  - {name: anthropic, kind: anthropic, base_url: "https://api.anthropic.com",
     api_key_env: ANTHROPIC_API_KEY}
  - {name: dashscope, kind: dashscope,
     base_url: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
     api_key_env: DASHSCOPE_API_KEY}
  - {name: mistral, kind: mistral, base_url: "https://api.mistral.ai/v1/",
     api_key_env: MISTRAL_API_KEY}
  - {name: openai, kind: openai, base_url: "https://api.openai.com:8443/v1",
     api_key_env: OPENAI_API_KEY}
models:
  - {name: deepseek-v3, provider: deepseek, upstream_model: deepseek-chat,
     context_window: 65536, max_output_tokens: 8192,
     price_per_mtok: {input: 0.14, output: 0.42},
     strengths: [code, structured, summarize]}
  - {name: qwen-max, provider: dashscope, context_window: 32768,
     price_per_mtok: {input: 1.6, output: 6.4}}
  - {name: claude-sonnet, provider: anthropic, upstream_model: claude-sonnet-4-5-20250929,
     context_window: 200000, max_output_tokens: 16384,
     price_per_mtok: {input: 3, cached_input: 0.3, output: 15}}
  - {name: mistral-large, provider: mistral, upstream_model: mistral-large-latest,
     context_window: 131072, price_per_mtok: {input: 2, output: 6},
     fallbacks: [qwen-max], latency_hint: 1500ms}
  - {name: gpt-4o-128k, provider: openai, upstream_model: gpt-4o, context_window: 128000,
     price_per_mtok: {input: 2.5, output: 10}}
routes:
  - name: auto                       # the client sends "model": "auto"
    rules:
      - {when: {task: [code, structured]}, targets: [deepseek-v3, qwen-max]}
      - {when: {task: [creative]},         targets: [claude-sonnet, mistral-large]}
    default: [deepseek-v3, mistral-large]
retry:    {max_attempts: 3, base_delay: 100ms, max_delay: 8s, budget_percent: 20}
failover: {eject_after: 5, eject_for: 30s, when_all_ejected: fail_fast}
truncation: {action: reprocess, reprocess_on: gpt-4o-128k}
cache:    {mode: deterministic, l1: {max_bytes: 256MiB, ttl: 1h},
           redis: {url: "redis://127.0.0.1:6379/0", ttl: 1h, timeout: 25ms}}
control_plane: {address: "llmgate-control:50051", node_id_env: POD_NAME,
                report_interval: 5s}
)yaml";

// The smallest valid config; error tests add one mistake to it.
constexpr char kMinimal[] = R"yaml(
providers:
  - name: deepseek
    kind: deepseek
    base_url: "https://api.deepseek.com"
    api_key_env: DEEPSEEK_API_KEY
models:
  - name: deepseek-v3
    provider: deepseek
    upstream_model: deepseek-chat
    context_window: 65536
    price_per_mtok: {input: 0.14, output: 0.42}
)yaml";

EnvLookup designEnv() {
  return fakeEnv({{"TEAM_A_KEY", "team-a-secret"},
                  {"TEAM_B_KEY", "team-b-secret"},
                  {"DEEPSEEK_API_KEY", "sk-deepseek"},
                  {"ANTHROPIC_API_KEY", "sk-ant"},
                  {"DASHSCOPE_API_KEY", "sk-dash"},
                  {"MISTRAL_API_KEY", "mistral-key"},
                  {"OPENAI_API_KEY", "sk-openai"}});
}

absl::StatusOr<Config> load(std::string_view yaml, const EnvLookup& env = designEnv()) {
  return loadConfigString(yaml, "test.yaml", env, "/etc/llmgate");
}

// The problems of a config expected to fail.
std::vector<std::string> problems(std::string_view yaml, const EnvLookup& env = designEnv()) {
  absl::StatusOr<Config> config = load(yaml, env);
  EXPECT_FALSE(config.ok()) << "config unexpectedly loaded:\n" << yaml;
  if (config.ok()) return {};
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  return lines(config.status());
}

std::string withMinimal(std::string_view extra) {
  return std::string(kMinimal) + std::string(extra);
}

TEST(LoadConfigTest, DesignExampleLoads) {
  absl::StatusOr<Config> config = load(kDesignExample);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source, "test.yaml");

  EXPECT_EQ(config->server.listen, "0.0.0.0:8080");
  EXPECT_EQ(config->server.admin_listen, "127.0.0.1:9901");
  EXPECT_EQ(config->server.workers, 0);
  EXPECT_EQ(config->server.max_request_bytes, 4u << 20);
  EXPECT_EQ(config->server.drain_timeout, seconds(30));

  ASSERT_THAT(config->clients, SizeIs(1));
  EXPECT_EQ(config->clients[0].key.env, "TEAM_A_KEY");
  EXPECT_EQ(config->clients[0].key.value, "team-a-secret");
  EXPECT_EQ(config->clients[0].tenant, "team-a");
  EXPECT_EQ(config->clients[0].budget.usd_per_day, 50.0);

  ASSERT_THAT(config->providers, SizeIs(5));
  const ProviderConfig* deepseek = config->findProvider("deepseek");
  ASSERT_NE(deepseek, nullptr);
  EXPECT_EQ(deepseek->kind, ProviderKind::kDeepSeek);
  EXPECT_EQ(deepseek->base_url, "https://api.deepseek.com");
  EXPECT_TRUE(deepseek->endpoint.tls);
  EXPECT_EQ(deepseek->endpoint.host, "api.deepseek.com");
  EXPECT_EQ(deepseek->endpoint.port, 443);
  EXPECT_EQ(deepseek->endpoint.base_path, "");
  EXPECT_EQ(deepseek->api_key.env, "DEEPSEEK_API_KEY");
  EXPECT_EQ(deepseek->api_key.value, "sk-deepseek");
  EXPECT_EQ(deepseek->max_connections, 64u);
  EXPECT_FALSE(deepseek->allow_private_network);
  ASSERT_TRUE(deepseek->keepalive_ping.has_value());
  EXPECT_EQ(deepseek->keepalive_ping->interval, seconds(60));
  EXPECT_EQ(deepseek->keepalive_ping->model, "deepseek-v3");

  EXPECT_EQ(config->findProvider("anthropic")->kind, ProviderKind::kAnthropic);
  EXPECT_EQ(config->findProvider("dashscope")->endpoint.base_path, "/compatible-mode/v1");
  EXPECT_EQ(config->findProvider("mistral")->endpoint.base_path, "/v1");  // trailing '/' dropped
  EXPECT_EQ(config->findProvider("openai")->endpoint.port, 8443);
  EXPECT_EQ(config->findProvider("nope"), nullptr);

  ASSERT_THAT(config->models, SizeIs(5));
  const ModelConfig* v3 = config->findModel("deepseek-v3");
  ASSERT_NE(v3, nullptr);
  EXPECT_EQ(v3->provider, "deepseek");
  EXPECT_EQ(v3->upstream_model, "deepseek-chat");
  EXPECT_EQ(v3->context_window, 65536u);
  EXPECT_EQ(v3->max_output_tokens, 8192u);
  EXPECT_DOUBLE_EQ(v3->price_per_mtok.input, 0.14);
  EXPECT_DOUBLE_EQ(v3->price_per_mtok.output, 0.42);
  EXPECT_THAT(v3->strengths, ElementsAre("code", "structured", "summarize"));
  const ModelConfig* large = config->findModel("mistral-large");
  EXPECT_THAT(large->fallbacks, ElementsAre("qwen-max"));
  EXPECT_EQ(large->latency_hint, milliseconds(1500));
  EXPECT_DOUBLE_EQ(config->findModel("claude-sonnet")->price_per_mtok.cached_input, 0.3);

  ASSERT_THAT(config->routes, SizeIs(1));
  const RouteConfig* autoRoute = config->findRoute("auto");
  ASSERT_NE(autoRoute, nullptr);
  ASSERT_THAT(autoRoute->rules, SizeIs(2));
  EXPECT_THAT(autoRoute->rules[0].when.task, ElementsAre("code", "structured"));
  EXPECT_THAT(autoRoute->rules[0].targets, ElementsAre("deepseek-v3", "qwen-max"));
  EXPECT_THAT(autoRoute->rules[1].targets, ElementsAre("claude-sonnet", "mistral-large"));
  EXPECT_THAT(autoRoute->default_targets, ElementsAre("deepseek-v3", "mistral-large"));
  EXPECT_EQ(config->findRoute("deepseek-v3"), nullptr);

  EXPECT_EQ(config->retry.max_attempts, 3);
  EXPECT_EQ(config->retry.base_delay, milliseconds(100));
  EXPECT_EQ(config->retry.max_delay, seconds(8));
  EXPECT_DOUBLE_EQ(config->retry.budget_percent, 20);
  EXPECT_EQ(config->failover.eject_after, 5);
  EXPECT_EQ(config->failover.eject_for, seconds(30));
  EXPECT_EQ(config->failover.when_all_ejected, "fail_fast");
  EXPECT_EQ(config->truncation.action, "reprocess");
  EXPECT_EQ(config->truncation.reprocess_on, "gpt-4o-128k");
  EXPECT_EQ(config->cache.mode, "deterministic");
  EXPECT_EQ(config->cache.l1_max_bytes, 256ull << 20);
  EXPECT_EQ(config->cache.l1_ttl, hours(1));
  ASSERT_TRUE(config->cache.redis.has_value());
  EXPECT_EQ(config->cache.redis->url, "redis://127.0.0.1:6379/0");
  EXPECT_EQ(config->cache.redis->timeout, milliseconds(25));
  EXPECT_FALSE(config->cache.redis->password.has_value());
  ASSERT_TRUE(config->control_plane.has_value());
  EXPECT_EQ(config->control_plane->address, "llmgate-control:50051");
  EXPECT_EQ(config->control_plane->node_id_env, "POD_NAME");
  EXPECT_EQ(config->control_plane->report_interval, seconds(5));
  EXPECT_FALSE(config->control_plane->token.has_value());
  EXPECT_EQ(config->control_plane->keepalive_time, seconds(30));
  EXPECT_EQ(config->control_plane->keepalive_timeout, seconds(10));
}

TEST(LoadConfigTest, ControlPlaneKeepaliveIsRead) {
  absl::StatusOr<Config> config = load(withMinimal(R"yaml(
control_plane: {address: "cp:50051", keepalive_time: 1s, keepalive_timeout: 1500ms}
)yaml"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->control_plane->keepalive_time, seconds(1));
  EXPECT_EQ(config->control_plane->keepalive_timeout, milliseconds(1500));
}

TEST(ConfigErrorsTest, ControlPlaneKeepaliveProblemsNameTheirKeyPath) {
  EXPECT_THAT(problems(withMinimal(R"yaml(
control_plane: {address: "cp:50051", keepalive_time: soon, keepalive_timeout: 0s}
)yaml")),
              UnorderedElementsAre(StartsWith("control_plane.keepalive_time: "),
                                   StartsWith("control_plane.keepalive_timeout: ")));
}

TEST(LoadConfigTest, DefaultsAreApplied) {
  absl::StatusOr<Config> config = load(kMinimal);
  ASSERT_TRUE(config.ok()) << config.status();
  const ServerConfig server_defaults;
  EXPECT_EQ(config->server.listen, server_defaults.listen);
  EXPECT_EQ(config->server.admin_listen, "127.0.0.1:9901");
  EXPECT_EQ(config->server.workers, 0);
  EXPECT_EQ(config->server.max_request_bytes, 4u << 20);
  EXPECT_EQ(config->server.max_header_bytes, 16u << 10);
  EXPECT_EQ(config->server.idle_timeout, seconds(60));
  EXPECT_EQ(config->server.config_watch_interval, seconds(2));
  EXPECT_THAT(config->clients, IsEmpty());
  EXPECT_THAT(config->routes, IsEmpty());
  EXPECT_EQ(config->retry.max_attempts, 3);
  EXPECT_EQ(config->timeouts.total, seconds(300));
  EXPECT_EQ(config->failover.when_all_ejected, "fail_fast");
  EXPECT_EQ(config->truncation.action, "pass");
  EXPECT_EQ(config->cache.mode, "deterministic");
  EXPECT_FALSE(config->cache.redis.has_value());
  EXPECT_FALSE(config->control_plane.has_value());
  EXPECT_EQ(config->logging.level, "info");
  EXPECT_EQ(config->logging.access_log, "stdout");
  EXPECT_FALSE(config->logging.log_prompts);

  const ProviderConfig& provider = config->providers.at(0);
  EXPECT_EQ(provider.max_connections, 64u);
  EXPECT_EQ(provider.timeouts.connect, seconds(2));
  EXPECT_EQ(provider.retry.max_attempts, 3);
  EXPECT_FALSE(provider.keepalive_ping.has_value());

  const ModelConfig& model = config->models.at(0);
  EXPECT_DOUBLE_EQ(model.price_per_mtok.cached_input, 0.14);  // defaults to input
  EXPECT_EQ(model.max_output_tokens, 4096u);
  EXPECT_FALSE(model.latency_hint.has_value());
}

TEST(LoadConfigTest, UpstreamModelDefaultsToName) {
  absl::StatusOr<Config> config = load(R"yaml(
providers: [{name: p, base_url: "https://llm.example.com/v1"}]
models: [{name: some-model, provider: p, context_window: 1000}]
)yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->models[0].upstream_model, "some-model");
  EXPECT_EQ(config->providers[0].kind, ProviderKind::kOpenAI);  // kind defaults to openai
  EXPECT_TRUE(config->providers[0].api_key.empty());            // no api_key_env: no key
  EXPECT_EQ(config->models[0].max_output_tokens, 1000u);        // default capped by the context
  EXPECT_DOUBLE_EQ(config->models[0].price_per_mtok.input, 0);
}

TEST(LoadConfigTest, ProviderOverridesMergeFieldByField) {
  absl::StatusOr<Config> config = load(R"yaml(
timeouts: {connect: 1s, first_byte: 20s, stream_idle: 45s, total: 200s}
retry: {max_attempts: 4, base_delay: 50ms, max_delay: 5s, budget_percent: 10}
providers:
  - {name: a, base_url: "https://a.example.com",
     timeouts: {first_byte: 60s}, retry: {max_attempts: 2}}
  - {name: b, base_url: "https://b.example.com"}
models: [{name: m, provider: a}]
)yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  const ProviderConfig& a = config->providers[0];
  EXPECT_EQ(a.timeouts.connect, seconds(1));       // global
  EXPECT_EQ(a.timeouts.first_byte, seconds(60));   // overridden
  EXPECT_EQ(a.timeouts.stream_idle, seconds(45));  // global
  EXPECT_EQ(a.timeouts.total, seconds(200));       // global
  EXPECT_EQ(a.retry.max_attempts, 2);              // overridden
  EXPECT_EQ(a.retry.base_delay, milliseconds(50));
  EXPECT_EQ(a.retry.max_delay, seconds(5));
  EXPECT_DOUBLE_EQ(a.retry.budget_percent, 10);
  const ProviderConfig& b = config->providers[1];
  EXPECT_EQ(b.timeouts.first_byte, seconds(20));
  EXPECT_EQ(b.retry.max_attempts, 4);
  EXPECT_EQ(config->timeouts.first_byte, seconds(20));  // the global one is untouched
}

TEST(LoadConfigTest, OverrideThatBreaksTheMergedTimeoutsIsReportedOnTheProvider) {
  EXPECT_THAT(problems(R"yaml(
timeouts: {total: 60s}
providers: [{name: a, base_url: "https://a.example.com", timeouts: {first_byte: 90s}}]
models: [{name: m, provider: a}]
)yaml"),
              ElementsAre("providers[0].timeouts: first_byte (90s) must not exceed total (1m)"));
}

// --- one mistake at a time, each with its key path --------------------------

TEST(ConfigErrorsTest, PriceThatIsNotANumber) {
  EXPECT_THAT(problems(R"yaml(
providers: [{name: p, base_url: "https://p.example.com"}]
models:
  - {name: a, provider: p}
  - {name: b, provider: p}
  - {name: c, provider: p, price_per_mtok: {input: cheap, output: 1}}
)yaml"),
              ElementsAre("models[2].price_per_mtok.input: expected a number, got \"cheap\""));
}

TEST(ConfigErrorsTest, UnknownModelInARule) {
  EXPECT_THAT(problems(withMinimal(R"yaml(
routes:
  - name: auto
    rules:
      - {when: {task: [chat]}, targets: [deepseek-v3]}
      - {when: {task: [code]}, targets: [deepsek-v3]}
)yaml")),
              ElementsAre("routes[0].rules[1].targets[0]: unknown model \"deepsek-v3\" (did you "
                          "mean \"deepseek-v3\"?)"));
}

TEST(ConfigErrorsTest, UnknownProviderKind) {
  EXPECT_THAT(problems(R"yaml(
providers:
  - {name: a, base_url: "https://a.example.com"}
  - {name: b, kind: foo, base_url: "https://b.example.com"}
models: [{name: m, provider: a}]
)yaml"),
              ElementsAre("providers[1].kind: expected one of openai, deepseek, dashscope, "
                          "mistral, anthropic, got \"foo\""));
}

TEST(ConfigErrorsTest, UnknownKeysAreErrors) {
  EXPECT_THAT(
      problems(withMinimal(R"yaml(
server: {listn: "0.0.0.0:8080"}
cache: {l1: {max_byte: 1MiB}}
frobnicate: 1
)yaml")),
      ElementsAre("frobnicate: unknown key", "server.listn: unknown key (did you mean \"listen\"?)",
                  "cache.l1.max_byte: unknown key (did you mean \"max_bytes\"?)"));
}

TEST(ConfigErrorsTest, UnknownKeysInsideListItems) {
  EXPECT_THAT(problems(R"yaml(
providers: [{name: p, base_url: "https://p.example.com", timeout: {connect: 1s}}]
models: [{name: m, provider: p, context: 1000, price_per_mtok: {inptu: 1, output: 2}}]
)yaml"),
              ElementsAre("providers[0].timeout: unknown key (did you mean \"timeouts\"?)",
                          "models[0].context: unknown key",
                          "models[0].price_per_mtok.inptu: unknown key (did you mean \"input\"?)",
                          "models[0].price_per_mtok.input: missing required key"));
}

TEST(ConfigErrorsTest, DuplicateYamlKeys) {
  EXPECT_THAT(problems(withMinimal(R"yaml(
server:
  listen: "0.0.0.0:8080"
  listen: "0.0.0.0:9090"
)yaml")),
              ElementsAre("server.listen: duplicate key"));
}

TEST(ConfigErrorsTest, WrongShapes) {
  EXPECT_THAT(problems(withMinimal(R"yaml(
server: [1, 2]
routes: {name: auto}
retry: 3
)yaml")),
              ElementsAre("server: expected a map, got a list", "retry: expected a map, got \"3\"",
                          "routes: expected a list, got a map"));
  EXPECT_THAT(problems("- 1\n- 2\n"), ElementsAre("config: expected a map, got a list"));
}

TEST(ConfigErrorsTest, NumbersOutOfRange) {
  EXPECT_THAT(problems(R"yaml(
server: {workers: 300, max_connections: 0}
retry: {max_attempts: 11, budget_percent: 150}
providers: [{name: p, base_url: "https://p.example.com", max_connections: 0,
             retry: {max_attempts: 0}}]
models:
  - {name: m, provider: p, context_window: 0, price_per_mtok: {input: -1, output: 1}}
failover: {eject_after: 0}
)yaml"),
              ElementsAre("server.workers: must be between 0 and 256, got 300",
                          "server.max_connections: must be between 1 and 4294967295, got 0",
                          "retry.max_attempts: must be between 1 and 10, got 11",
                          "retry.budget_percent: must be between 0 and 100, got 150",
                          "providers[0].max_connections: must be between 1 and 4294967295, got 0",
                          "providers[0].retry.max_attempts: must be between 1 and 10, got 0",
                          "models[0].context_window: must be between 1 and 4294967295, got 0",
                          "models[0].price_per_mtok.input: must be at least 0, got -1",
                          "failover.eject_after: must be between 1 and 1000, got 0"));
}

TEST(ConfigErrorsTest, NumbersOfTheWrongKind) {
  EXPECT_THAT(problems(R"yaml(
server: {workers: 1.5}
providers: [{name: p, base_url: "https://p.example.com"}]
models: [{name: m, provider: p, context_window: 64k,
          price_per_mtok: {input: .nan, output: 1e999}}]
logging: {log_prompts: yes}
)yaml"),
              ElementsAre("server.workers: expected an integer, got \"1.5\"",
                          "models[0].context_window: expected an integer, got \"64k\"",
                          "models[0].price_per_mtok.input: expected a number, got \".nan\"",
                          "models[0].price_per_mtok.output: expected a number, got \"1e999\"",
                          "logging.log_prompts: expected true or false, got \"yes\""));
}

TEST(ConfigErrorsTest, MaxOutputTokensAboveTheContextWindow) {
  EXPECT_THAT(problems(R"yaml(
providers: [{name: p, base_url: "https://p.example.com"}]
models: [{name: m, provider: p, context_window: 4096, max_output_tokens: 8192}]
)yaml"),
              ElementsAre("models[0].max_output_tokens: must not exceed context_window (4096), "
                          "got 8192"));
}

TEST(ConfigErrorsTest, DurationsAndSizes) {
  EXPECT_THAT(
      problems(withMinimal(R"yaml(
server: {drain_timeout: 30, max_request_bytes: 4XB, idle_timeout: 0s}
timeouts: {total: -5s, connect: [1]}
retry: {base_delay: 1.5us}
)yaml")),
      ElementsAre(
          "server.max_request_bytes: invalid size \"4XB\": unknown unit \"XB\" (use B, KiB, MiB, "
          "GiB, TiB or KB, MB, GB, TB)",
          "server.drain_timeout: invalid duration \"30\": a unit is required (ms, s, m, h or d)",
          "server.idle_timeout: must be greater than 0",
          "retry.base_delay: invalid duration \"1.5us\": unknown unit \"us\" (use ms, s, m, h or "
          "d)",
          "timeouts.connect: expected a duration (e.g. 250ms, 3s, 5m, 1h), got a list",
          "timeouts.total: invalid duration \"-5s\": a duration cannot be negative"));
}

TEST(LoadConfigTest, ConfigWatchIntervalZeroTurnsWatchingOff) {
  absl::StatusOr<Config> config = load(withMinimal("server: {config_watch_interval: 0s}\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server.config_watch_interval, seconds(0));
  EXPECT_THAT(problems(withMinimal("server: {config_watch_interval: 2}\n")),
              ElementsAre("server.config_watch_interval: invalid duration \"2\": a unit is "
                          "required (ms, s, m, h or d)"));
}

TEST(ConfigErrorsTest, EnumStrings) {
  EXPECT_THAT(
      problems(withMinimal(R"yaml(
routes: [{name: auto, rules: [{when: {task: [coding]}, targets: [deepseek-v3]}]}]
failover: {when_all_ejected: panic}
truncation: {action: retry}
cache: {mode: sometimes}
logging: {level: verbose}
)yaml")),
      ElementsAre("routes[0].rules[0].when.task[0]: expected one of code, structured, summarize, "
                  "reasoning, creative, chat, got \"coding\"",
                  "failover.when_all_ejected: expected one of fail_fast, least_recently_ejected, "
                  "got \"panic\"",
                  "truncation.action: expected one of pass, reprocess, error, got \"retry\"",
                  "cache.mode: expected one of deterministic, always, off, got \"sometimes\"",
                  "logging.level: expected one of debug, info, warn, error, got \"verbose\""));
}

TEST(ConfigErrorsTest, StrengthsAreTaskClasses) {
  EXPECT_THAT(problems(R"yaml(
providers: [{name: p, base_url: "https://p.example.com"}]
models: [{name: m, provider: p, strengths: [code, poetry]}]
)yaml"),
              ElementsAre("models[0].strengths[1]: expected one of code, structured, summarize, "
                          "reasoning, creative, chat, got \"poetry\""));
}

TEST(ConfigErrorsTest, DuplicateNames) {
  EXPECT_THAT(
      problems(R"yaml(
providers:
  - {name: p, base_url: "https://p.example.com"}
  - {name: p, base_url: "https://q.example.com"}
models:
  - {name: m, provider: p}
  - {name: m, provider: p}
routes:
  - {name: r, default: [m]}
  - {name: r, default: [m]}
  - {name: m, default: [m]}
)yaml"),
      ElementsAre("providers[1].name: duplicate provider name \"p\" (also providers[0].name)",
                  "models[1].name: duplicate model name \"m\" (also models[0].name)",
                  "routes[1].name: duplicate route name \"r\" (also routes[0].name)",
                  "routes[2].name: \"m\" is already a model name; a route alias must "
                  "differ"));
}

TEST(ConfigErrorsTest, ReferencesToMissingThings) {
  EXPECT_THAT(
      problems(R"yaml(
providers:
  - {name: deepseek, base_url: "https://api.deepseek.com",
     keepalive_ping: {model: ghost}}
  - {name: other, base_url: "https://other.example.com",
     keepalive_ping: {model: m}}
models:
  - {name: m, provider: deepseek, fallbacks: [m, nope, auto]}
  - {name: n, provider: deepseak}
routes:
  - {name: auto, default: [m]}
truncation: {action: reprocess, reprocess_on: big}
)yaml"),
      ElementsAre("models[1].provider: unknown provider \"deepseak\" (did you mean \"deepseek\"?)",
                  "providers[0].keepalive_ping.model: unknown model \"ghost\"",
                  "providers[1].keepalive_ping.model: model \"m\" is served by provider "
                  "\"deepseek\", not \"other\"",
                  "models[0].fallbacks[0]: model \"m\" cannot fall back to itself",
                  "models[0].fallbacks[1]: unknown model \"nope\"",
                  "models[0].fallbacks[2]: unknown model \"auto\" (it is a route alias; name a "
                  "model here)",
                  "truncation.reprocess_on: unknown model \"big\""));
}

TEST(ConfigErrorsTest, RoutesNeedTargets) {
  EXPECT_THAT(problems(withMinimal(R"yaml(
routes:
  - {name: empty}
  - {name: empty-default, default: []}
  - name: empty-rule
    rules: [{when: {task: [code]}, targets: []}]
  - name: no-when
    rules: [{targets: [deepseek-v3]}]
)yaml")),
              ElementsAre("routes[0]: needs a non-empty default or at least one rule",
                          "routes[1]: needs a non-empty default or at least one rule",
                          "routes[2].rules[0].targets: must list at least one model",
                          "routes[3].rules[0].when: missing required key"));
}

TEST(ConfigErrorsTest, ReprocessNeedsAModel) {
  EXPECT_THAT(problems(withMinimal("truncation: {action: reprocess}\n")),
              ElementsAre("truncation.reprocess_on: missing required key (action is reprocess)"));
}

TEST(ConfigErrorsTest, RequiredKeys) {
  EXPECT_THAT(problems(R"yaml(
providers: [{kind: openai}]
models: [{provider: p}]
)yaml"),
              ElementsAre("providers[0].name: missing required key",
                          "providers[0].base_url: missing required key",
                          "models[0].name: missing required key",
                          "models[0].provider: unknown provider \"p\""));
  EXPECT_THAT(problems(""), ElementsAre("providers: at least one provider is required",
                                        "models: at least one model is required"));
}

TEST(ConfigErrorsTest, ListenAddresses) {
  EXPECT_THAT(problems(withMinimal(R"yaml(
server: {listen: "localhost:8080", admin_listen: "127.0.0.1:99999"}
)yaml")),
              ElementsAre("server.listen: expected an IP address and port (e.g. 0.0.0.0:8080, "
                          "127.0.0.1:9901 or [::]:8080), got \"localhost:8080\"",
                          "server.admin_listen: expected an IP address and port (e.g. "
                          "0.0.0.0:8080, 127.0.0.1:9901 or [::]:8080), got \"127.0.0.1:99999\""));
  EXPECT_THAT(problems(withMinimal(R"yaml(
server: {listen: "127.0.0.1:9901", admin_listen: "127.0.0.1:9901"}
)yaml")),
              ElementsAre("server.admin_listen: must differ from server.listen"));
  EXPECT_TRUE(load(withMinimal(R"yaml(
server: {listen: "[::]:8080", admin_listen: "[::1]:0"}
)yaml"))
                  .ok());
}

TEST(ConfigErrorsTest, BaseUrlShape) {
  EXPECT_THAT(
      problems(R"yaml(
providers:
  - {name: a, base_url: "ftp://a.example.com"}
  - {name: b, base_url: "https://b.example.com/v1?x=1#frag"}
  - {name: c, kind: anthropic, base_url: "https://api.anthropic.com/v1"}
  - {name: d, base_url: "https://api.openai.com/v1/chat/completions"}
  - {name: e, base_url: "https://e.example.com:0"}
  - {name: f, base_url: "api.openai.com/v1"}
  - {name: g, base_url: "https://g.example.com/a/../v1"}
models: [{name: m, provider: a}]
)yaml"),
      ElementsAre("providers[0].base_url: scheme must be http or https, got \"ftp\"",
                  "providers[1].base_url: must not contain a query (?...)",
                  "providers[1].base_url: must not contain a fragment (#...)",
                  "providers[2].base_url: for kind anthropic, base_url stops before /v1/messages "
                  "(llmgate appends it), e.g. https://api.anthropic.com",
                  "providers[3].base_url: base_url stops before /chat/completions (llmgate "
                  "appends it), e.g. https://api.openai.com/v1",
                  "providers[4].base_url: invalid port \"0\"",
                  "providers[5].base_url: expected an absolute http:// or https:// URL, got "
                  "\"api.openai.com/v1\"",
                  "providers[6].base_url: the path \"/a/../v1\" has an empty, . or .. segment"));
}

TEST(ConfigErrorsTest, BaseUrlWithCredentialsIsRefusedWithoutEchoingThem) {
  const std::vector<std::string> found = problems(R"yaml(
providers: [{name: p, base_url: "https://user:hunter2-canary@p.example.com/v1"}]
models: [{name: m, provider: p}]
)yaml");
  EXPECT_THAT(found, ElementsAre(AllOf(StartsWith("providers[0].base_url: must not contain"),
                                       HasSubstr("api_key_env"))));
  for (const std::string& line : found) EXPECT_THAT(line, Not(HasSubstr("hunter2")));
}

TEST(ConfigErrorsTest, ManyProblemsAreReportedTogether) {
  const std::vector<std::string> found = problems(R"yaml(
server: {listn: "0.0.0.0:8080", workers: -1}
clients: [{key_env: MISSING_KEY, tenant: t}]
providers:
  - {name: deepseek, kind: deepseak, base_url: "https://api.deepseek.com"}
models:
  - {name: deepseek-v3, provider: deepseek, price_per_mtok: {input: cheap, output: 1}}
routes:
  - {name: auto, default: [deepsek-v3]}
retry: {max_attempts: 0}
cache: {mode: never}
)yaml");
  EXPECT_THAT(found, ElementsAre("server.listn: unknown key (did you mean \"listen\"?)",
                                 "server.workers: must be between 0 and 256, got -1",
                                 "clients[0].key_env: environment variable MISSING_KEY is not set",
                                 "retry.max_attempts: must be between 1 and 10, got 0",
                                 "providers[0].kind: expected one of openai, deepseek, dashscope, "
                                 "mistral, anthropic, got \"deepseak\"",
                                 "models[0].price_per_mtok.input: expected a number, got \"cheap\"",
                                 "cache.mode: expected one of deterministic, always, off, got "
                                 "\"never\"",
                                 "routes[0].default[0]: unknown model \"deepsek-v3\" (did you "
                                 "mean \"deepseek-v3\"?)"));
}

TEST(ConfigErrorsTest, ProblemListIsCapped) {
  std::string yaml = "providers: [{name: p, base_url: \"https://p.example.com\"}]\nmodels:\n";
  for (int i = 0; i < 300; ++i) {
    yaml += "  - {name: m" + std::to_string(i) + ", provider: p, context_window: 0}\n";
  }
  const std::vector<std::string> found = problems(yaml);
  ASSERT_THAT(found, SizeIs(101));
  EXPECT_EQ(found.back(), "(200 more problems not shown)");
}

TEST(ConfigErrorsTest, AnAliasExpandedTooOftenIsStopped) {
  std::string yaml = "providers: [{name: p, base_url: \"https://p.example.com\"}]\n";
  yaml += "x-tasks: &tasks [";
  for (int i = 0; i < 1000; ++i) yaml += i == 0 ? "code" : ", code";
  yaml += "]\nmodels:\n";
  for (int i = 0; i < 300; ++i) {
    yaml += "  - {name: m" + std::to_string(i) + ", provider: p, strengths: *tasks}\n";
  }
  const std::vector<std::string> found = problems(yaml);
  EXPECT_THAT(found, Contains("config: more than 200000 values (an alias expanded too many "
                              "times?)"));
  EXPECT_THAT(found, Not(Contains(StartsWith("x-tasks"))));  // x- keys hold anchors
}

TEST(LoadConfigTest, ExtensionKeysHoldAnchors) {
  absl::StatusOr<Config> config = load(R"yaml(
x-timeouts: &slow {first_byte: 90s, total: 600s}
providers:
  - {name: a, base_url: "https://a.example.com", timeouts: *slow}
  - {name: b, base_url: "https://b.example.com", timeouts: *slow}
models: [{name: m, provider: a}]
)yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->providers[1].timeouts.first_byte, seconds(90));
  EXPECT_THAT(problems(withMinimal("server: {x-note: 1}\n")),
              ElementsAre("server.x-note: unknown key"));  // only at the top level
}

TEST(ConfigErrorsTest, HostileYamlDoesNotThrow) {
  EXPECT_FALSE(load(std::string(100000, '[')).ok());
  EXPECT_FALSE(load(std::string("\0\xff\xfe{{{: ]]]", 12)).ok());
  EXPECT_FALSE(load("*undefined_alias\n").ok());
  EXPECT_FALSE(load("? [complex, key]\n: value\n").ok());
  EXPECT_FALSE(load("!!binary providers: 1\n").ok());
}

TEST(ConfigErrorsTest, YamlSyntaxErrorHasLineAndColumn) {
  absl::StatusOr<Config> config = load("providers:\n  - name: [unclosed\nmodels: []\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              ::testing::MatchesRegex("test\\.yaml:[0-9]+:[0-9]+: YAML syntax error: .+"));

  absl::StatusOr<Config> tabs = load("server:\n\tlisten: x\n");
  ASSERT_FALSE(tabs.ok());
  EXPECT_THAT(std::string(tabs.status().message()), StartsWith("test.yaml:2:"));
}

TEST(ConfigErrorsTest, OnlyOneDocument) {
  absl::StatusOr<Config> config = load(std::string(kMinimal) + "---\n" + kMinimal);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(std::string(config.status().message()),
            "test.yaml: holds 2 YAML documents; a config is exactly one");
}

// --- secrets ----------------------------------------------------------------

TEST(SecretsTest, LiteralKeysAreRefused) {
  const std::vector<std::string> found = problems(R"yaml(
clients: [{key: literal-client-canary, tenant: t}]
providers: [{name: p, base_url: "https://p.example.com", api_key: sk-literal-canary}]
models: [{name: m, provider: p}]
cache: {redis: {url: "redis://r.example.com:6379/0", password: redis-canary}}
control_plane: {address: "cp:50051", token: token-canary}
)yaml");
  EXPECT_THAT(found,
              ElementsAre(StartsWith("clients[0].key: client keys must not be written in the "
                                     "config file; put the key in an environment variable and "
                                     "name it with key_env"),
                          "clients[0].key_env: missing required key",
                          "providers[0].api_key: API keys must not be written in the config file; "
                          "put the key in an environment variable and name it with api_key_env",
                          StartsWith("cache.redis.password: passwords must not be written"),
                          StartsWith("control_plane.token: tokens must not be written")));
  for (const std::string& line : found) EXPECT_THAT(line, Not(HasSubstr("canary")));
}

TEST(SecretsTest, ClientKeyMustBeSetAndNonEmpty) {
  EXPECT_THAT(
      problems(withMinimal(R"yaml(
clients:
  - {key_env: UNSET_KEY, tenant: a}
  - {key_env: EMPTY_KEY, tenant: b}
  - {key_env: BLANK_KEY, tenant: c}
)yaml"),
               fakeEnv({{"DEEPSEEK_API_KEY", "sk"}, {"EMPTY_KEY", ""}, {"BLANK_KEY", " \n"}})),
      ElementsAre("clients[0].key_env: environment variable UNSET_KEY is not set",
                  "clients[1].key_env: environment variable EMPTY_KEY is empty",
                  "clients[2].key_env: environment variable BLANK_KEY is empty"));
}

TEST(SecretsTest, ProviderKeyMustBeSetWhenNamed) {
  EXPECT_THAT(problems(kMinimal, fakeEnv({})),
              ElementsAre("providers[0].api_key_env: environment variable DEEPSEEK_API_KEY is not "
                          "set"));
}

TEST(SecretsTest, TrailingNewlineOfAMountedSecretIsTrimmed) {
  absl::StatusOr<Config> config = load(kMinimal, fakeEnv({{"DEEPSEEK_API_KEY", "sk-abc\n"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->providers[0].api_key.value, "sk-abc");
}

TEST(SecretsTest, KeysThatCannotBeHeadersAreRefused) {
  EXPECT_THAT(problems(kMinimal, fakeEnv({{"DEEPSEEK_API_KEY", "sk-a\r\nX-Injected: 1"}})),
              ElementsAre("providers[0].api_key_env: environment variable DEEPSEEK_API_KEY holds "
                          "spaces or control characters, which cannot be sent in an HTTP header"));
}

TEST(SecretsTest, TwoClientsWithTheSameKey) {
  EXPECT_THAT(problems(withMinimal(R"yaml(
clients:
  - {key_env: TEAM_A_KEY, tenant: a}
  - {key_env: TEAM_B_KEY, tenant: b}
  - {key_env: TEAM_C_KEY, tenant: c}
)yaml"),
                       fakeEnv({{"DEEPSEEK_API_KEY", "sk"},
                                {"TEAM_A_KEY", "same"},
                                {"TEAM_B_KEY", "other"},
                                {"TEAM_C_KEY", "same"}})),
              ElementsAre("clients[2].key_env: holds the same key as clients[0].key_env; every "
                          "client needs its own key"));
}

TEST(SecretsTest, APastedKeyInPlaceOfTheVariableNameIsNotEchoed) {
  const std::vector<std::string> found = problems(R"yaml(
providers:
  - {name: p, base_url: "https://p.example.com", api_key_env: "sk-pasted-canary-123"}
  - {name: q, base_url: "https://q.example.com", api_key_env: "aB3dE5gH7jK9mN1pQ3sT5vX7zCanary"}
models: [{name: m, provider: p}]
)yaml");
  EXPECT_THAT(found, ElementsAre(StartsWith("providers[0].api_key_env: expected the name of an "
                                            "environment variable"),
                                 "providers[1].api_key_env: the environment variable named here "
                                 "is not set"));
  for (const std::string& line : found) {
    EXPECT_THAT(line, Not(HasSubstr("anary")));
  }
}

TEST(SecretsTest, OptionalSecretsAreReadWhenNamed) {
  absl::StatusOr<Config> config =
      load(withMinimal(R"yaml(
cache: {redis: {url: "rediss://default@redis.example.com:6380/2", password_env: REDIS_PASSWORD}}
control_plane: {address: "cp.example.com:50051", token_env: NODE_TOKEN}
)yaml"),
           fakeEnv({{"DEEPSEEK_API_KEY", "sk"}, {"REDIS_PASSWORD", "pw"}, {"NODE_TOKEN", "tok"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->cache.redis->password.has_value());
  EXPECT_EQ(config->cache.redis->password->value, "pw");
  ASSERT_TRUE(config->control_plane->token.has_value());
  EXPECT_EQ(config->control_plane->token->env, "NODE_TOKEN");
  EXPECT_EQ(config->control_plane->token->value, "tok");

  EXPECT_THAT(problems(withMinimal(R"yaml(
cache: {redis: {url: "redis://:pw-canary@redis.example.com:6379/0"}}
control_plane: {address: "cp.example.com:50051", token_env: NODE_TOKEN}
)yaml"),
                       fakeEnv({{"DEEPSEEK_API_KEY", "sk"}})),
              ElementsAre("cache.redis.url: must not hold a password; put it in an environment "
                          "variable named by cache.redis.password_env",
                          "control_plane.token_env: environment variable NODE_TOKEN is not set"));
}

TEST(SecretsTest, EffectiveConfigNeverShowsSecretValues) {
  const std::string canary = "CANARY-8c1f0d6e";
  absl::StatusOr<Config> config = load(std::string(kDesignExample) + "logging: {level: debug}\n",
                                       fakeEnv({{"TEAM_A_KEY", canary + "-client"},
                                                {"DEEPSEEK_API_KEY", canary + "-deepseek"},
                                                {"ANTHROPIC_API_KEY", canary + "-anthropic"},
                                                {"DASHSCOPE_API_KEY", canary + "-dashscope"},
                                                {"MISTRAL_API_KEY", canary + "-mistral"},
                                                {"OPENAI_API_KEY", canary + "-openai"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  config->cache.redis->password = Secret{"REDIS_PASSWORD", canary + "-redis"};
  config->control_plane->token = Secret{"NODE_TOKEN", canary + "-token"};

  const std::string text = effectiveConfigJson(*config);
  EXPECT_THAT(text, Not(HasSubstr("CANARY")));

  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(text, ec);
  ASSERT_FALSE(ec) << ec.message() << "\n" << text;
  const boost::json::object& root = json.as_object();
  EXPECT_EQ(root.at("clients").at(0).at("key"),
            (boost::json::object{{"env", "TEAM_A_KEY"}, {"value", "***"}}));
  const boost::json::value& deepseek = root.at("providers").at(0);
  EXPECT_EQ(deepseek.at("api_key"),
            (boost::json::object{{"env", "DEEPSEEK_API_KEY"}, {"value", "***"}}));
  EXPECT_EQ(root.at("cache").at("redis").at("password"),
            (boost::json::object{{"env", "REDIS_PASSWORD"}, {"value", "***"}}));
  EXPECT_EQ(root.at("control_plane").at("token"),
            (boost::json::object{{"env", "NODE_TOKEN"}, {"value", "***"}}));
}

TEST(EffectiveConfigTest, DurationsSizesAndEndpoints) {
  absl::StatusOr<Config> config = load(kDesignExample);
  ASSERT_TRUE(config.ok()) << config.status();
  const std::string text = effectiveConfigJson(*config);
  EXPECT_NE(text.find('\n'), std::string::npos);  // pretty, not one line
  const boost::json::value json = boost::json::parse(text);
  const boost::json::object& root = json.as_object();
  EXPECT_EQ(root.at("source"), "test.yaml");
  EXPECT_EQ(root.at("server").at("drain_timeout"), "30s");
  EXPECT_EQ(root.at("server").at("max_request_bytes"), "4MiB");
  EXPECT_EQ(root.at("retry").at("base_delay"), "100ms");
  EXPECT_EQ(root.at("cache").at("l1").at("ttl"), "1h");
  EXPECT_EQ(root.at("cache").at("redis").at("timeout"), "25ms");
  const boost::json::value& deepseek = root.at("providers").at(0);
  EXPECT_EQ(deepseek.at("kind"), "deepseek");
  EXPECT_EQ(deepseek.at("timeouts").at("first_byte"), "30s");
  EXPECT_EQ(deepseek.at("endpoint").at("host"), "api.deepseek.com");
  EXPECT_EQ(deepseek.at("endpoint").at("port"), 443);
  EXPECT_EQ(deepseek.at("keepalive_ping").at("interval"), "1m");
  const boost::json::value& v3 = root.at("models").at(0);
  EXPECT_EQ(v3.at("price_per_mtok").at("input"), 0.14);
  EXPECT_THAT(text, HasSubstr("\"input\": 0.14"));  // not 1.4E-1
  EXPECT_EQ(root.at("models").at(3).at("latency_hint"), "1500ms");
  EXPECT_EQ(root.at("routes").at(0).at("rules").at(1).at("when").at("task").at(0), "creative");
  EXPECT_TRUE(root.at("providers").at(1).at("keepalive_ping").is_null());
}

TEST(EffectiveConfigTest, ProviderWithoutKeyShowsNull) {
  absl::StatusOr<Config> config =
      loadConfigString(embeddedDefaultConfig(), "<embedded default>", fakeEnv({}));
  ASSERT_TRUE(config.ok()) << config.status();
  const boost::json::value json = boost::json::parse(effectiveConfigJson(*config));
  EXPECT_TRUE(json.at("providers").at(0).at("api_key").is_null());
  EXPECT_TRUE(json.at("control_plane").is_null());
}

// --- the embedded default -----------------------------------------------------

TEST(EmbeddedDefaultTest, LoadsCleanlyWithAnEmptyEnvironment) {
  absl::StatusOr<Config> config =
      loadConfigString(embeddedDefaultConfig(), "<embedded default>", fakeEnv({}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source, "<embedded default>");
  EXPECT_EQ(config->server.listen, "127.0.0.1:8080");
  EXPECT_EQ(config->server.admin_listen, "127.0.0.1:9901");
  EXPECT_THAT(config->clients, IsEmpty());
  EXPECT_FALSE(config->cache.redis.has_value());
  EXPECT_FALSE(config->control_plane.has_value());

  const ProviderConfig* fake = config->findProvider("fake");
  ASSERT_NE(fake, nullptr);
  EXPECT_EQ(fake->kind, ProviderKind::kOpenAI);
  EXPECT_FALSE(fake->endpoint.tls);
  EXPECT_EQ(fake->endpoint.host, "127.0.0.1");
  EXPECT_EQ(fake->endpoint.port, 18999);
  EXPECT_EQ(fake->endpoint.base_path, "/v1");
  EXPECT_TRUE(fake->allow_private_network);
  EXPECT_TRUE(fake->api_key.empty());
  const ProviderConfig* fake_deepseek = config->findProvider("fake-deepseek");
  ASSERT_NE(fake_deepseek, nullptr);
  EXPECT_EQ(fake_deepseek->kind, ProviderKind::kDeepSeek);
  EXPECT_EQ(fake_deepseek->endpoint.base_path, "/deepseek");

  const ModelConfig* mini = config->findModel("gpt-4o-mini");
  ASSERT_NE(mini, nullptr);
  EXPECT_EQ(mini->provider, "fake");
  EXPECT_EQ(mini->upstream_model, "gpt-4o-mini");
  EXPECT_EQ(mini->context_window, 128000u);
  EXPECT_DOUBLE_EQ(mini->price_per_mtok.input, 0.15);
  EXPECT_DOUBLE_EQ(mini->price_per_mtok.output, 0.60);
  const ModelConfig* chat = config->findModel("deepseek-chat");
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(chat->context_window, 65536u);
  EXPECT_DOUBLE_EQ(chat->price_per_mtok.input, 0.14);
  EXPECT_DOUBLE_EQ(chat->price_per_mtok.output, 0.42);

  const RouteConfig* autoRoute = config->findRoute("auto");
  ASSERT_NE(autoRoute, nullptr);
  EXPECT_THAT(autoRoute->default_targets, ElementsAre("gpt-4o-mini"));
}

TEST(EmbeddedDefaultTest, DoesNotDependOnTheProcessEnvironment) {
  // processEnv() is the default lookup; the embedded config names no variable.
  absl::StatusOr<Config> config = loadConfigString(embeddedDefaultConfig(), "<embedded default>");
  EXPECT_TRUE(config.ok()) << config.status();
}

// --- files --------------------------------------------------------------------

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("llmgate_config_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "conf");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path) << content;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigFileTest, RelativePathsResolveAgainstTheConfigFolder) {
  const std::string path = write("conf/llmgate.yaml", withMinimal(R"yaml(
control_plane:
  address: "cp:50051"
  cache_file: state/routes.json
  tls: {ca_file: /etc/ca.pem, cert_file: tls/cert.pem, key_file: ../tls/key.pem}
logging: {access_log: logs/access.log}
)yaml"));
  absl::StatusOr<Config> config = loadConfigFile(path, fakeEnv({{"DEEPSEEK_API_KEY", "sk"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source, path);
  EXPECT_EQ(config->control_plane->cache_file, (dir_ / "conf/state/routes.json").string());
  EXPECT_EQ(config->control_plane->tls->ca_file, "/etc/ca.pem");
  EXPECT_EQ(config->control_plane->tls->cert_file, (dir_ / "conf/tls/cert.pem").string());
  EXPECT_EQ(config->control_plane->tls->key_file, (dir_ / "tls/key.pem").string());
  EXPECT_EQ(config->logging.access_log, (dir_ / "conf/logs/access.log").string());
}

TEST_F(ConfigFileTest, StdoutAndOffAreNotPaths) {
  const std::string path = write("a.yaml", withMinimal("logging: {access_log: \"off\"}\n"));
  absl::StatusOr<Config> config = loadConfigFile(path, fakeEnv({{"DEEPSEEK_API_KEY", "sk"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->logging.access_log, "off");
}

TEST_F(ConfigFileTest, MissingFile) {
  absl::StatusOr<Config> config = loadConfigFile((dir_ / "nope.yaml").string(), fakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("nope.yaml"));
}

TEST_F(ConfigFileTest, SyntaxErrorNamesTheFile) {
  const std::string path = write("bad.yaml", "server: {listen: \"0.0.0.0:8080\"\n");
  absl::StatusOr<Config> config = loadConfigFile(path, fakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()), StartsWith(path + ":"));
}

}  // namespace
}  // namespace llmgate::config

// llmgate-control's config: the webhook, mTLS and injection keys
// (docs/KUBERNETES.md, docs/CONTROL_PLANE.md), and Kubernetes quantities.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/config/control_loader.h"
#include "common/config/k8s_quantity.h"
#include "common/config/units.h"
#include "tests/unit/common/config/test_env.h"

namespace llmgate::config {
namespace {

using test::fakeEnv;
using test::lines;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

absl::StatusOr<ControlConfig> load(std::string_view yaml) {
  return loadControlConfigString(yaml, "control.yaml", fakeEnv({}), "/etc/llmgate-control");
}

TEST(ControlInjectionConfigTest, DefaultsMatchTheDeployNames) {
  absl::StatusOr<ControlConfig> config = load("listen: \"127.0.0.1:0\"\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->webhook_listen, "0.0.0.0:8443");
  EXPECT_EQ(config->admin_listen, "");
  EXPECT_FALSE(config->tls.has_value());
  EXPECT_FALSE(config->webhook_tls.has_value());
  EXPECT_EQ(config->injection.image, "llmgate/llmgate:0.1.0");
  EXPECT_EQ(config->injection.control_address, "llmgate-control.llmgate-system.svc:50051");
  EXPECT_EQ(config->injection.config_map, "llmgate-sidecar-config");
  EXPECT_EQ(config->injection.cpu_request, "100m");
  EXPECT_EQ(config->injection.memory_limit, "256Mi");
  EXPECT_EQ(config->injection.secret_name, "llmgate-sidecar-secrets");
  EXPECT_EQ(config->injection.termination_grace_period, std::chrono::seconds(40));
}

TEST(ControlInjectionConfigTest, ReadsEverySetting) {
  absl::StatusOr<ControlConfig> config = load(R"(
admin_listen: "0.0.0.0:9902"
webhook_listen: "0.0.0.0:9443"
tls: {ca_file: ca.crt, cert_file: /certs/tls.crt, key_file: tls.key}
webhook_tls: {cert_file: /etc/llmgate/webhook-tls/tls.crt, key_file: /etc/llmgate/webhook-tls/tls.key}
injection:
  image: registry.local/llmgate:1.2.3
  image_pull_policy: Always
  control_address: cp.llmgate-system.svc:50051
  config_map: my-sidecar
  resources: {cpu_request: 50m, memory_request: 64Mi, cpu_limit: "2", memory_limit: 1Gi}
  pre_stop_sleep: 10s
  run_as_user: 1000
  secret_name: shop.llm-keys-2
  termination_grace_period: 75s
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->admin_listen, "0.0.0.0:9902");
  EXPECT_EQ(config->webhook_listen, "0.0.0.0:9443");
  ASSERT_TRUE(config->tls.has_value());
  EXPECT_EQ(config->tls->ca_file, "/etc/llmgate-control/ca.crt");  // relative to the config
  EXPECT_EQ(config->tls->cert_file, "/certs/tls.crt");
  ASSERT_TRUE(config->webhook_tls.has_value());
  EXPECT_EQ(config->webhook_tls->key_file, "/etc/llmgate/webhook-tls/tls.key");
  const InjectionConfig& injection = config->injection;
  EXPECT_EQ(injection.image, "registry.local/llmgate:1.2.3");
  EXPECT_EQ(injection.image_pull_policy, "Always");
  EXPECT_EQ(injection.control_address, "cp.llmgate-system.svc:50051");
  EXPECT_EQ(injection.config_map, "my-sidecar");
  EXPECT_EQ(injection.cpu_request, "50m");
  EXPECT_EQ(injection.memory_request, "64Mi");
  EXPECT_EQ(injection.cpu_limit, "2");
  EXPECT_EQ(injection.memory_limit, "1Gi");
  EXPECT_EQ(injection.pre_stop_sleep, std::chrono::seconds(10));
  EXPECT_EQ(injection.run_as_user, 1000);
  EXPECT_EQ(injection.secret_name, "shop.llm-keys-2");
  EXPECT_EQ(injection.termination_grace_period, std::chrono::seconds(75));
}

TEST(ControlInjectionConfigTest, EmptySecretNameTurnsEnvFromOff) {
  absl::StatusOr<ControlConfig> config = load("injection: {secret_name: \"\"}\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->injection.secret_name, "");
}

TEST(ControlInjectionConfigTest, GracePeriodMustExceedThePreStopSleep) {
  absl::StatusOr<ControlConfig> config =
      load("injection: {pre_stop_sleep: 10s, termination_grace_period: 10s}\n");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(lines(config.status()),
              ElementsAre("injection.termination_grace_period: must exceed pre_stop_sleep (the "
                          "sidecar drains after the preStop sleep)"));
  EXPECT_TRUE(load("injection: {pre_stop_sleep: 10s, termination_grace_period: 11s}\n").ok());
}

TEST(ControlConfigTest, MinClientPingIntervalDefaultsTo10sAndIsRead) {
  absl::StatusOr<ControlConfig> defaults = load("listen: \"127.0.0.1:0\"\n");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->min_client_ping_interval, std::chrono::seconds(10));
  absl::StatusOr<ControlConfig> set = load("min_client_ping_interval: 500ms\n");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->min_client_ping_interval, std::chrono::milliseconds(500));
  absl::StatusOr<ControlConfig> bad = load("min_client_ping_interval: 0s\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(lines(bad.status()),
              ElementsAre("min_client_ping_interval: must be greater than 0, got \"0s\""));
}

TEST(ControlInjectionConfigTest, ProblemsNameTheirKeyPath) {
  absl::StatusOr<ControlConfig> config = load(R"(
tls: {cert_file: a.crt, key_file: a.key}
webhook_tls: {cert_file: a.crt, extra: 1}
injection:
  image: ""
  image_pull_policy: Sometimes
  resources: {cpu_request: lots, memory_request: 2Gi, gpu: 1}
  colour: blue
  secret_name: Not_A-Name
  termination_grace_period: soon
)");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(lines(config.status()),
              UnorderedElementsAre(
                  "tls.ca_file: missing required key", "webhook_tls.extra: unknown key",
                  "webhook_tls.key_file: missing required key", "injection.colour: unknown key",
                  "injection.image: must not be empty",
                  "injection.image_pull_policy: expected one of Always, IfNotPresent, Never, got "
                  "\"Sometimes\"",
                  "injection.resources.gpu: unknown key",
                  "injection.resources.cpu_request: expected a Kubernetes quantity (e.g. 100m, "
                  "128Mi), got \"lots\"",
                  "injection.resources.memory_request: must not exceed memory_limit",
                  "injection.secret_name: expected a Secret name (lowercase letters, digits, '-', "
                  "'.'; at most 253) or \"\" for none, got \"Not_A-Name\"",
                  "injection.termination_grace_period: " +
                      std::string(parseDuration("soon").status().message())));
}

TEST(K8sQuantityTest, AcceptsWhatTheApiServerAccepts) {
  EXPECT_DOUBLE_EQ(*parseK8sQuantity("100m"), 0.1);
  EXPECT_DOUBLE_EQ(*parseK8sQuantity("1"), 1);
  EXPECT_DOUBLE_EQ(*parseK8sQuantity("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(*parseK8sQuantity(".5"), 0.5);
  EXPECT_DOUBLE_EQ(*parseK8sQuantity("128Mi"), 128.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(*parseK8sQuantity("1Gi"), 1024.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(*parseK8sQuantity("2k"), 2000);
  EXPECT_DOUBLE_EQ(*parseK8sQuantity("1e3"), 1000);
  EXPECT_DOUBLE_EQ(*parseK8sQuantity("5E-1"), 0.5);
  EXPECT_DOUBLE_EQ(*parseK8sQuantity("+1M"), 1e6);
  for (const char* bad :
       {"", "lots", "-1", "1 Gi", "1gi", "1Mb", "Mi", "1.2.3", "0x10", "1e", "1Ki5"}) {
    EXPECT_FALSE(parseK8sQuantity(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace llmgate::config

// deploy/config/llmgate.example.yaml is what operators copy: it must load.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/config/loader.h"
#include "tests/unit/common/config/test_env.h"

namespace llmgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

EnvLookup exampleEnv() {
  return test::fakeEnv({
      {"LLMGATE_TEAM_SEARCH_KEY", "client-key-search"},
      {"LLMGATE_TEAM_SUPPORT_KEY", "client-key-support"},
      {"LLMGATE_BATCH_KEY", "client-key-batch"},
      {"DEEPSEEK_API_KEY", "sk-deepseek-EXAMPLECANARY"},
      {"DASHSCOPE_API_KEY", "sk-dashscope-EXAMPLECANARY"},
      {"MISTRAL_API_KEY", "mistral-EXAMPLECANARY"},
      {"ANTHROPIC_API_KEY", "sk-ant-EXAMPLECANARY"},
      {"OPENAI_API_KEY", "sk-openai-EXAMPLECANARY"},
      {"LLMGATE_REDIS_PASSWORD", "redis-EXAMPLECANARY"},
      {"LLMGATE_NODE_TOKEN", "node-EXAMPLECANARY"},
  });
}

TEST(ExampleConfigTest, LoadsWithItsEnvironmentSet) {
  absl::StatusOr<Config> config = loadConfigFile(LLMGATE_EXAMPLE_CONFIG, exampleEnv());
  ASSERT_TRUE(config.ok()) << config.status();

  EXPECT_THAT(config->providers, SizeIs(6));
  for (const char* kind : {"deepseek", "dashscope", "mistral", "anthropic", "openai"}) {
    EXPECT_NE(config->findProvider(kind), nullptr) << kind;
  }
  const ModelConfig* v3 = config->findModel("deepseek-v3");
  ASSERT_NE(v3, nullptr);
  EXPECT_DOUBLE_EQ(v3->price_per_mtok.input, 0.14);
  EXPECT_DOUBLE_EQ(v3->price_per_mtok.output, 0.42);
  const ModelConfig* v2 = config->findModel("deepseek-v2");
  ASSERT_NE(v2, nullptr);
  EXPECT_DOUBLE_EQ(v2->price_per_mtok.input, 0.07);
  EXPECT_DOUBLE_EQ(v2->price_per_mtok.output, 0.21);
  const ModelConfig* big = config->findModel(config->truncation.reprocess_on);
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big->context_window, 128000u);

  // Per-provider overrides merged over the global policy.
  const ProviderConfig* deepseek = config->findProvider("deepseek");
  EXPECT_EQ(deepseek->timeouts.first_byte, std::chrono::seconds(60));
  EXPECT_EQ(deepseek->timeouts.total, std::chrono::seconds(300));
  EXPECT_EQ(config->findProvider("mistral")->retry.max_attempts, 4);
  EXPECT_EQ(config->findProvider("mistral")->retry.max_delay, std::chrono::seconds(8));
  EXPECT_TRUE(config->findProvider("vllm-local")->allow_private_network);

  EXPECT_THAT(config->clients, SizeIs(3));
  EXPECT_EQ(config->clients[0].budget.usd_per_minute, 0.5);
  EXPECT_EQ(config->clients[1].budget.low_at_percent, 75);
  // The rule language: every kind of condition and a split appear once.
  const RouteConfig* autoRoute = config->findRoute("auto");
  ASSERT_NE(autoRoute, nullptr);
  EXPECT_TRUE(autoRoute->rules[0].when.budget_low);
  EXPECT_EQ(autoRoute->rules[1].when.min_prompt_tokens, 30000u);
  EXPECT_EQ(autoRoute->rules[2].when.tools, true);
  EXPECT_THAT(autoRoute->rules[3].when.response_format_types, ElementsAre("json_schema"));
  EXPECT_NE(autoRoute->rules[4].when.last_user_message_re, nullptr);
  EXPECT_THAT(config->findRoute("cheap")->rules[0].split, SizeIs(2));
  EXPECT_THAT(config->findRoute("cheap")->default_targets,
              ElementsAre("deepseek-v2", "mistral-small", "gpt-4o-mini"));
  ASSERT_TRUE(config->control_plane.has_value());
  ASSERT_TRUE(config->control_plane->tls.has_value());
  EXPECT_EQ(config->control_plane->tls->key_file, "/etc/llmgate/tls/tls.key");

  EXPECT_THAT(effectiveConfigJson(*config), Not(HasSubstr("EXAMPLECANARY")));
}

TEST(ExampleConfigTest, NamesEveryMissingVariable) {
  absl::StatusOr<Config> config = loadConfigFile(LLMGATE_EXAMPLE_CONFIG, test::fakeEnv({}));
  ASSERT_FALSE(config.ok());
  const std::vector<std::string> found = test::lines(config.status());
  EXPECT_THAT(found, SizeIs(10));
  for (const std::string& line : found) EXPECT_THAT(line, HasSubstr("is not set"));
}

}  // namespace
}  // namespace llmgate::config

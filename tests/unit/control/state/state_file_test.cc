#include "control/state/state_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace llmgate::control::state {
namespace {

namespace v1 = llmgate::control::v1;

class StateFileTest : public ::testing::Test {
 protected:
  StateFileTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("llmgate-state-test-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
  }
  ~StateFileTest() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

OperatorState sampleState() {
  OperatorState state;
  state.route_version = 42;
  v1::Policy policy;
  policy.set_model("deepseek-v3");
  policy.mutable_p95_latency_max()->set_seconds(3);
  policy.set_error_rate_max(0.2);
  policy.set_min_samples(50);
  policy.set_shift_to("mistral-large");
  policy.mutable_shift_for()->set_seconds(300);
  policy.set_probe_percent(5);
  state.policies = std::vector{policy};
  v1::Override item;
  item.set_id("op-1");
  item.set_subject("deepseek-v3");
  item.mutable_shift()->set_to("mistral-large");
  item.mutable_shift()->set_weight(0.5);
  item.mutable_expires_at()->set_seconds(1'900'000'000);
  item.set_origin(v1::Override::ORIGIN_OPERATOR);
  item.set_reason("maintenance");
  state.overrides.push_back(item);
  return state;
}

TEST_F(StateFileTest, RoundTrip) {
  const std::string path = (dir_ / "state.json").string();
  ASSERT_TRUE(saveState(path, sampleState()).ok());
  absl::StatusOr<OperatorState> loaded = loadState(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->route_version, 42u);
  ASSERT_TRUE(loaded->policies.has_value());
  ASSERT_EQ(loaded->policies->size(), 1u);
  EXPECT_EQ((*loaded->policies)[0].SerializeAsString(),
            (*sampleState().policies)[0].SerializeAsString());
  ASSERT_EQ(loaded->overrides.size(), 1u);
  EXPECT_EQ(loaded->overrides[0].SerializeAsString(),
            sampleState().overrides[0].SerializeAsString());
}

TEST_F(StateFileTest, NoPoliciesKeyMeansConfigPolicies) {
  OperatorState state;
  state.route_version = 3;
  absl::StatusOr<OperatorState> loaded = fromJson(toJson(state));
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->policies.has_value());
  EXPECT_EQ(loaded->route_version, 3u);
}

TEST_F(StateFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(loadState((dir_ / "none.json").string()).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StateFileTest, CorruptFileIsDataLoss) {
  const std::string path = (dir_ / "bad.json").string();
  std::ofstream(path) << "{\"format\": 1, \"overrides\": [{\"shift\": 7}]}";
  EXPECT_EQ(loadState(path).status().code(), absl::StatusCode::kDataLoss);
  std::ofstream(path) << "not json";
  EXPECT_EQ(loadState(path).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(StateFileTest, AtomicWriteReplacesWholeAndLeavesNoTemp) {
  const std::string path = (dir_ / "file").string();
  ASSERT_TRUE(writeFileAtomically(path, std::string(100000, 'a')).ok());
  ASSERT_TRUE(writeFileAtomically(path, "short").ok());
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "short");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1u);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
}

TEST_F(StateFileTest, AtomicWriteIntoMissingDirectoryFails) {
  EXPECT_FALSE(writeFileAtomically((dir_ / "no" / "such" / "file").string(), "x").ok());
}

}  // namespace
}  // namespace llmgate::control::state

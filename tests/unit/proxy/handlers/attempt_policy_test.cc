#include "proxy/handlers/attempt_policy.h"

#include <gtest/gtest.h>

namespace llmgate::proxy::handlers {
namespace {

using telemetry::AttemptOutcome;
using upstream::UpstreamErrorKind;

api::ApiError mapped(std::string code) { return api::ApiError::upstream(502, std::move(code), ""); }

TEST(AttemptPolicyTest, ShutdownIsAnsweredAtOnceAndNeverEjects) {
  const Verdict v = classifyTransportFailure(UpstreamErrorKind::kShuttingDown);
  EXPECT_EQ(v.next, Next::kRespond);
  EXPECT_FALSE(v.counts_for_ejection);
  EXPECT_FALSE(v.quota);
}

TEST(AttemptPolicyTest, ConnectFailuresFailOverAtOnce) {
  const Verdict v = classifyTransportFailure(UpstreamErrorKind::kConnectRefused);
  EXPECT_EQ(v.next, Next::kFailover);
  EXPECT_EQ(v.outcome, AttemptOutcome::kConnectError);
  EXPECT_TRUE(v.counts_for_ejection);
  EXPECT_EQ(classifyTransportFailure(UpstreamErrorKind::kTlsError).next, Next::kFailover);
}

TEST(AttemptPolicyTest, TimeoutsAndServerErrorsRetryAndCountForEjection) {
  for (auto kind : {UpstreamErrorKind::kFirstByteTimeout, UpstreamErrorKind::kTotalTimeout}) {
    const Verdict v = classifyTransportFailure(kind);
    EXPECT_EQ(v.next, Next::kRetrySame);
    EXPECT_EQ(v.outcome, AttemptOutcome::kTimeout);
    EXPECT_TRUE(v.counts_for_ejection);
  }
  for (int status : {408, 500, 502, 503, 504, 529}) {
    const Verdict v = classifyHttpFailure(status, mapped("upstream_server_error"));
    EXPECT_EQ(v.next, Next::kRetrySame) << status;
    EXPECT_TRUE(v.counts_for_ejection) << status;
  }
}

TEST(AttemptPolicyTest, RateLimitsRetryButNeverEject) {
  const Verdict v = classifyHttpFailure(429, mapped("rate_limited"));
  EXPECT_EQ(v.next, Next::kRetrySame);
  EXPECT_EQ(v.outcome, AttemptOutcome::kRateLimited);
  EXPECT_FALSE(v.counts_for_ejection);
}

TEST(AttemptPolicyTest, QuotaDisablesAndFailsOver) {
  for (int status : {402, 429}) {
    const Verdict v = classifyHttpFailure(status, mapped("upstream_quota_exhausted"));
    EXPECT_TRUE(v.quota);
    EXPECT_EQ(v.next, Next::kFailover);
    EXPECT_EQ(v.outcome, AttemptOutcome::kQuota);
  }
}

TEST(AttemptPolicyTest, ClientErrorsAreAnsweredAsIsAndProviderAuthFailsOver) {
  for (int status : {400, 404, 422}) {
    const Verdict v = classifyHttpFailure(status, mapped("upstream_invalid_request"));
    EXPECT_EQ(v.next, Next::kRespond) << status;
    EXPECT_FALSE(v.counts_for_ejection);
  }
  EXPECT_EQ(classifyHttpFailure(401, mapped("upstream_auth_failed")).next, Next::kFailover);
  EXPECT_EQ(classifyHttpFailure(403, mapped("upstream_auth_failed")).next, Next::kFailover);
}

}  // namespace
}  // namespace llmgate::proxy::handlers

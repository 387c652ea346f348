#include "proxy/telemetry/stats.h"

namespace llmgate::proxy::telemetry {

std::string_view toString(AttemptOutcome outcome) {
  switch (outcome) {
    case AttemptOutcome::kSuccess:
      return "success";
    case AttemptOutcome::kConnectError:
      return "connect_error";
    case AttemptOutcome::kTimeout:
      return "timeout";
    case AttemptOutcome::kRateLimited:
      return "rate_limited";
    case AttemptOutcome::kServerError:
      return "server_error";
    case AttemptOutcome::kClientError:
      return "client_error";
    case AttemptOutcome::kQuota:
      return "quota";
  }
  return "unknown";
}

}  // namespace llmgate::proxy::telemetry

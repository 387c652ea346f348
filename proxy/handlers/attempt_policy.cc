#include "proxy/handlers/attempt_policy.h"

namespace llmgate::proxy::handlers {

using telemetry::AttemptOutcome;
using upstream::UpstreamErrorKind;

Verdict classifyTransportFailure(UpstreamErrorKind kind) {
  switch (kind) {
    case UpstreamErrorKind::kDnsFailed:
    case UpstreamErrorKind::kConnectRefused:
      // Nothing was sent: safe and immediate to go elsewhere (R1).
      return {AttemptOutcome::kConnectError, Next::kFailover, true, false, "connect_error"};
    case UpstreamErrorKind::kForbiddenAddress:
    case UpstreamErrorKind::kTlsError:
      // Retrying cannot help: a policy or certificate problem.
      return {AttemptOutcome::kConnectError, Next::kFailover, true, false, "connect_error"};
    case UpstreamErrorKind::kConnectTimeout:
      return {AttemptOutcome::kTimeout, Next::kFailover, true, false, "timeout"};
    case UpstreamErrorKind::kPoolExhausted:
      return {AttemptOutcome::kConnectError, Next::kFailover, false, false, "pool_exhausted"};
    case UpstreamErrorKind::kFirstByteTimeout:
    case UpstreamErrorKind::kIdleTimeout:
    case UpstreamErrorKind::kTotalTimeout:
      return {AttemptOutcome::kTimeout, Next::kRetrySame, true, false, "timeout"};
    case UpstreamErrorKind::kShuttingDown:
      // Our own drain deadline: answer at once, the provider did nothing wrong.
      return {AttemptOutcome::kServerError, Next::kRespond, false, false, "shutting_down"};
    case UpstreamErrorKind::kStaleConnection:
    case UpstreamErrorKind::kClosed:
    case UpstreamErrorKind::kProtocolError:
    case UpstreamErrorKind::kNone:
      break;
  }
  return {AttemptOutcome::kServerError, Next::kRetrySame, true, false, "server_error"};
}

Verdict classifyHttpFailure(int status, const api::ApiError& mapped) {
  if (mapped.code == "upstream_quota_exhausted") {
    return {AttemptOutcome::kQuota, Next::kFailover, false, true, "quota"};
  }
  if (status == 429) {
    return {AttemptOutcome::kRateLimited, Next::kRetrySame, false, false, "rate_limited"};
  }
  if (status == 401 || status == 403) {
    // Our key for this provider is refused: another provider may still serve (R10).
    return {AttemptOutcome::kClientError, Next::kFailover, false, false, "auth_failed"};
  }
  if (status == 408 || status >= 500) {
    return {AttemptOutcome::kServerError, Next::kRetrySame, true, false, "server_error"};
  }
  return {AttemptOutcome::kClientError, Next::kRespond, false, false, "client_error"};
}

}  // namespace llmgate::proxy::handlers

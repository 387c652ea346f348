// What to do after a failed upstream attempt (docs/RESILIENCE.md). Pure
// functions of the failure, so the retry rules are unit-tested on their own.
#pragma once

#include <optional>
#include <string_view>

#include "common/config/schema.h"
#include "proxy/api/api_error.h"
#include "proxy/telemetry/stats.h"
#include "proxy/upstream/upstream_error.h"

namespace llmgate::proxy::handlers {

enum class Next {
  kRespond,    // the client caused it (400, 404, 422...): answer now, no retry, no failover
  kRetrySame,  // transient: retry this target after a backoff or the provider's hint
  kFailover,   // this target cannot serve it now: try the next target at once
};

struct Verdict {
  telemetry::AttemptOutcome outcome = telemetry::AttemptOutcome::kServerError;
  Next next = Next::kRetrySame;
  bool counts_for_ejection = false;  // consecutive-failure ejection counts it
  bool quota = false;                // disable the provider (R9)
  std::string_view reason;           // for metrics: retries_total{reason}, failovers_total{reason}
};

// A failure before any response header (connect, TLS, timeouts, resets).
Verdict classifyTransportFailure(upstream::UpstreamErrorKind kind);

// A non-2xx answer, already mapped to the client-facing error by the adapter.
Verdict classifyHttpFailure(int status, const api::ApiError& mapped);

}  // namespace llmgate::proxy::handlers

// Builds one telemetry.proto TelemetryReport from a collector's drained
// deltas (sketches converted to the wire's sparse bucket arrays).
#pragma once

#include <span>
#include <string>

#include "common/time/clock.h"
#include "llmgate/control/v1/telemetry.pb.h"
#include "proxy/control/telemetry_collector.h"

namespace llmgate::proxy::control {

void toProto(const sketch::LatencySketch& sketch, llmgate::control::v1::LatencySketch* out);

// node and sequence are left for the reporter to fill.
llmgate::control::v1::TelemetryReport makeReport(std::span<const TargetDelta> targets,
                                                 time::SystemTime interval_start,
                                                 time::SystemTime interval_end,
                                                 const std::string& route_version);

}  // namespace llmgate::proxy::control

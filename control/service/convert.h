// Conversions between llmgate's plain types (config, sketches, time) and the
// control-plane protos.
#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include "absl/status/statusor.h"
#include "common/config/control_loader.h"
#include "common/sketch/latency_sketch.h"
#include "common/time/clock.h"
#include "llmgate/control/v1/admin.pb.h"
#include "llmgate/control/v1/telemetry.pb.h"

namespace llmgate::control::service {

namespace v1 = llmgate::control::v1;

google::protobuf::Timestamp toProto(time::SystemTime at);
time::SystemTime fromProto(const google::protobuf::Timestamp& at);
google::protobuf::Duration toProtoDuration(config::Duration d);
google::protobuf::Duration secondsToProto(double seconds);
config::Duration fromProto(const google::protobuf::Duration& d);

void toProto(const sketch::LatencySketch& sketch, v1::LatencySketch* out);
absl::StatusOr<sketch::LatencySketch> fromProto(const v1::LatencySketch& sketch);

v1::Policy toProto(const config::PolicyConfig& policy);
config::PolicyConfig fromProto(const v1::Policy& policy);

v1::Model toProto(const config::ModelConfig& model);
// Every condition of `rule.when`, and its `targets` or `split`: nothing of the
// rule language is dropped (a lost condition would widen the rule).
v1::RouteRule toProto(const config::RouteRule& rule);
v1::Route toProto(const config::RouteConfig& route);

}  // namespace llmgate::control::service

// Telemetry.Report: one ServerReadReactor per proxy stream; every report is
// merged into the controller's fleet window.
#pragma once

#include "control/service/controller.h"
#include "control/service/token_check.h"
#include "llmgate/control/v1/telemetry.grpc.pb.h"

namespace llmgate::control::service {

class TelemetryService final : public llmgate::control::v1::Telemetry::CallbackService {
 public:
  TelemetryService(Controller& controller, const TokenChecker* node_tokens)
      : controller_(controller), node_tokens_(node_tokens) {}

  grpc::ServerReadReactor<v1::TelemetryReport>* Report(grpc::CallbackServerContext* context,
                                                       v1::ReportAck* response) override;

 private:
  Controller& controller_;
  const TokenChecker* node_tokens_;
};

}  // namespace llmgate::control::service

#include "control/service/telemetry_service.h"

#include "control/service/route_discovery_service.h"

namespace llmgate::control::service {
namespace {

// Reads reports one at a time; a read is always outstanding until the proxy
// half-closes or the call breaks, then it finishes with the ReportAck. Reading
// never waits on anything slow, so a report stream never backs up a proxy.
class ReportReactor final : public grpc::ServerReadReactor<v1::TelemetryReport> {
 public:
  ReportReactor(Controller& controller, v1::ReportAck* response, grpc::Status auth)
      : controller_(controller), response_(response) {
    if (!auth.ok()) {
      Finish(auth);
      return;
    }
    StartRead(&report_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    if (node_id_.empty()) {
      if (report_.node().id().empty()) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "node.id is required on the first report"));
        return;
      }
      node_id_ = report_.node().id();
    }
    response_->set_received(response_->received() + 1);
    // With metrics_source prometheus the fleet's numbers come from there;
    // reports are read (the stream stays healthy) but not merged twice.
    if (controller_.config().metrics_source.kind != "prometheus") {
      controller_.ingest(node_id_, report_, response_);
    }
    StartRead(&report_);
  }

  void OnDone() override { delete this; }

 private:
  Controller& controller_;
  v1::ReportAck* response_;
  v1::TelemetryReport report_;
  std::string node_id_;
};

}  // namespace

grpc::ServerReadReactor<v1::TelemetryReport>* TelemetryService::Report(
    grpc::CallbackServerContext* context, v1::ReportAck* response) {
  return new ReportReactor(controller_, response,
                           authorize(*context, node_tokens_, controller_.counters(), "Report"));
}

}  // namespace llmgate::control::service

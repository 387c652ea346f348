// ReportStream: one Telemetry.Report call (client streaming) on gRPC's
// callback API. At most one write in flight: offer() starts a write or says
// why it cannot (busy: the previous one has not completed; broken: the call
// failed or ended). It never blocks; gRPC's threads run the reactions.
//
// Lifetime: the owner calls cancel() (unless the stream is already done),
// waits for done() (waitDone) and only then destroys it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "grpcpp/grpcpp.h"
#include "llmgate/control/v1/telemetry.grpc.pb.h"

namespace llmgate::proxy::control {

class ReportStream final : public grpc::ClientWriteReactor<llmgate::control::v1::TelemetryReport> {
 public:
  enum class Offer { kStarted, kBusy, kBroken };

  // Starts the call; `token` (may be empty) goes out as `authorization: Bearer`.
  ReportStream(llmgate::control::v1::Telemetry::Stub& stub, const std::string& token);
  ReportStream(const ReportStream&) = delete;
  ReportStream& operator=(const ReportStream&) = delete;

  Offer offer(llmgate::control::v1::TelemetryReport report);
  // Ends the call (TryCancel) and lets OnDone run.
  void cancel();
  bool done() const;
  // Waits up to `timeout` for OnDone; true when done.
  bool waitDone(std::chrono::milliseconds timeout);
  // Status of the finished call ("" while running).
  std::string doneMessage() const;
  // Writes that completed successfully on this call.
  std::uint64_t writesCompleted() const;

 private:
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;
  void releaseHold();

  grpc::ClientContext context_;
  llmgate::control::v1::ReportAck ack_;
  llmgate::control::v1::TelemetryReport message_;  // the write in flight

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  bool in_flight_ = false;
  bool broken_ = false;
  bool hold_released_ = false;
  bool done_ = false;
  std::uint64_t writes_completed_ = 0;
  std::string done_message_;
};

}  // namespace llmgate::proxy::control

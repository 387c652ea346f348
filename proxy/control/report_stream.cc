#include "proxy/control/report_stream.h"

#include <utility>

#include "common/text/str_cat.h"

namespace llmgate::proxy::control {

namespace v1 = llmgate::control::v1;

ReportStream::ReportStream(v1::Telemetry::Stub& stub, const std::string& token) {
  if (!token.empty()) context_.AddMetadata("authorization", strCat("Bearer ", token));
  stub.async()->Report(&context_, &ack_, this);
  // The reporter thread starts writes outside reactions: the hold keeps the
  // call open between them until cancel() or a failed write releases it.
  AddHold();
  StartCall();
}

ReportStream::Offer ReportStream::offer(v1::TelemetryReport report) {
  {
    std::lock_guard lock(mu_);
    if (broken_ || done_ || hold_released_) return Offer::kBroken;
    if (in_flight_) return Offer::kBusy;
    in_flight_ = true;
    message_ = std::move(report);
  }
  StartWrite(&message_);
  return Offer::kStarted;
}

void ReportStream::OnWriteDone(bool ok) {
  {
    std::lock_guard lock(mu_);
    in_flight_ = false;
    if (ok) {
      ++writes_completed_;
      return;
    }
    broken_ = true;
  }
  releaseHold();
}

void ReportStream::releaseHold() {
  {
    std::lock_guard lock(mu_);
    if (hold_released_) return;
    hold_released_ = true;
  }
  RemoveHold();  // may run OnDone inline: never under mu_
}

void ReportStream::cancel() {
  context_.TryCancel();
  releaseHold();
}

void ReportStream::OnDone(const grpc::Status& status) {
  std::lock_guard lock(mu_);
  done_ = true;
  done_message_ = status.ok() ? std::string("ok")
                              : strCat("code ", static_cast<int>(status.error_code()), ": ",
                                       status.error_message());
  done_cv_.notify_all();
}

bool ReportStream::done() const {
  std::lock_guard lock(mu_);
  return done_;
}

bool ReportStream::waitDone(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return done_cv_.wait_for(lock, timeout, [this] { return done_; });
}

std::string ReportStream::doneMessage() const {
  std::lock_guard lock(mu_);
  return done_message_;
}

std::uint64_t ReportStream::writesCompleted() const {
  std::lock_guard lock(mu_);
  return writes_completed_;
}

}  // namespace llmgate::proxy::control

#include "control/service/admin_service.h"

#include <deque>
#include <mutex>
#include <optional>

#include "control/service/route_discovery_service.h"

namespace llmgate::control::service {
namespace {

grpc::Status toGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::ServerUnaryReactor* finish(grpc::CallbackServerContext* context, grpc::Status status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// Streams decisions to one watcher: a bounded queue (the oldest are dropped
// when a client reads too slowly), one write in flight, Finish exactly once.
class WatchReactor final : public grpc::ServerWriteReactor<v1::Decision>, public DecisionWatcher {
 public:
  static constexpr std::size_t kMaxQueued = 1024;

  WatchReactor(Controller& controller, const v1::WatchDecisionsRequest& request, grpc::Status auth)
      : controller_(controller) {
    if (!auth.ok()) {
      finished_ = true;
      Finish(auth);
      return;
    }
    registered_ = true;
    controller_.watch(this, request);
  }

  void push(const v1::Decision& decision) override {
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      if (writing_) {
        queue_.push_back(decision);
        if (queue_.size() > kMaxQueued) queue_.pop_front();
        return;
      }
      out_ = decision;
      writing_ = true;
    }
    StartWrite(&out_);
  }

  void OnWriteDone(bool ok) override {
    std::optional<grpc::Status> finish_now;
    bool write = false;
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (!ok && !finished_) {
        finished_ = true;
        finish_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
      }
      if (finished_) {
        finish_now = finish_status_;
        finish_status_.reset();
      } else if (!queue_.empty()) {
        out_ = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        write = true;
      }
    }
    if (finish_now) Finish(*finish_now);
    if (write) StartWrite(&out_);
  }

  void OnCancel() override {
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      finished_ = true;
      queue_.clear();
      if (writing_) {
        finish_status_ = grpc::Status::CANCELLED;
        return;
      }
    }
    Finish(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    if (registered_) controller_.unwatch(this);
    delete this;
  }

 private:
  Controller& controller_;
  bool registered_ = false;
  std::mutex mu_;
  v1::Decision out_;
  std::deque<v1::Decision> queue_;
  bool writing_ = false;
  bool finished_ = false;
  std::optional<grpc::Status> finish_status_;
};

}  // namespace

#define LLMGATE_ADMIN_AUTH(call)                                                            \
  if (grpc::Status auth = authorize(*context, &admin_token_, controller_.counters(), call); \
      !auth.ok())                                                                           \
  return finish(context, auth)

grpc::ServerUnaryReactor* AdminService::ListTargets(grpc::CallbackServerContext* context,
                                                    const v1::ListTargetsRequest* request,
                                                    v1::ListTargetsResponse* response) {
  LLMGATE_ADMIN_AUTH("Admin.ListTargets");
  *response = controller_.listTargets(*request);
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::GetThresholds(grpc::CallbackServerContext* context,
                                                      const v1::GetThresholdsRequest* request,
                                                      v1::GetThresholdsResponse* response) {
  LLMGATE_ADMIN_AUTH("Admin.GetThresholds");
  *response = controller_.getThresholds(*request);
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::SetThresholds(grpc::CallbackServerContext* context,
                                                      const v1::SetThresholdsRequest* request,
                                                      v1::SetThresholdsResponse* response) {
  LLMGATE_ADMIN_AUTH("Admin.SetThresholds");
  absl::StatusOr<v1::SetThresholdsResponse> result = controller_.setThresholds(*request);
  if (!result.ok()) return finish(context, toGrpc(result.status()));
  *response = std::move(*result);
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::SetOverride(grpc::CallbackServerContext* context,
                                                    const v1::SetOverrideRequest* request,
                                                    v1::SetOverrideResponse* response) {
  LLMGATE_ADMIN_AUTH("Admin.SetOverride");
  absl::StatusOr<v1::SetOverrideResponse> result = controller_.setOverride(*request);
  if (!result.ok()) return finish(context, toGrpc(result.status()));
  *response = std::move(*result);
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::ClearOverride(grpc::CallbackServerContext* context,
                                                      const v1::ClearOverrideRequest* request,
                                                      v1::ClearOverrideResponse* response) {
  LLMGATE_ADMIN_AUTH("Admin.ClearOverride");
  absl::StatusOr<v1::ClearOverrideResponse> result = controller_.clearOverride(*request);
  if (!result.ok()) return finish(context, toGrpc(result.status()));
  *response = std::move(*result);
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::GetRouteTable(grpc::CallbackServerContext* context,
                                                      const v1::GetRouteTableRequest* request,
                                                      v1::GetRouteTableResponse* response) {
  LLMGATE_ADMIN_AUTH("Admin.GetRouteTable");
  *response = controller_.getRouteTable();
  return finish(context, grpc::Status::OK);
}

#undef LLMGATE_ADMIN_AUTH

grpc::ServerWriteReactor<v1::Decision>* AdminService::WatchDecisions(
    grpc::CallbackServerContext* context, const v1::WatchDecisionsRequest* request) {
  return new WatchReactor(
      controller_, *request,
      authorize(*context, &admin_token_, controller_.counters(), "Admin.WatchDecisions"));
}

}  // namespace llmgate::control::service

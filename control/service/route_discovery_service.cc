#include "control/service/route_discovery_service.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/log/log.h"
#include "common/text/str_cat.h"

namespace llmgate::control::service {
namespace {

// One subscriber. At most one write in flight; the message written lives in
// `out_` until OnWriteDone; snapshots arriving meanwhile collapse into
// `pending_` (the latest wins). Finish is called exactly once, after the
// write in flight (if any) completes. OnDone unregisters and deletes.
// gRPC calls (StartWrite, Finish) are made outside `mu_`.
class StreamRoutesReactor final
    : public grpc::ServerBidiReactor<v1::RouteRequest, v1::RouteSnapshot>,
      public RouteSubscriber {
 public:
  StreamRoutesReactor(Controller& controller, grpc::Status auth) : controller_(controller) {
    if (!auth.ok()) {
      finished_ = true;
      Finish(auth);
      return;
    }
    StartRead(&request_);
  }

  void push(std::shared_ptr<const v1::RouteSnapshot> snapshot) override {
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      if (writing_) {
        pending_ = std::move(snapshot);
        return;
      }
      prepareWriteLocked(*snapshot);
    }
    StartWrite(&out_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      finish(grpc::Status::OK);
      return;
    }
    if (!subscribed_) {
      if (request_.node().id().empty()) {
        finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "node.id is required on the first request"));
        return;
      }
      subscribed_ = true;
      node_id_ = request_.node().id();
      controller_.subscribe(this, request_.node(), request_.version_info());
    } else {
      answer();
    }
    StartRead(&request_);
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
      } else if (pending_) {
        std::shared_ptr<const v1::RouteSnapshot> next = std::move(pending_);
        pending_.reset();
        prepareWriteLocked(*next);
        write = true;
      }
    }
    if (finish_now) Finish(*finish_now);
    if (write) StartWrite(&out_);
  }

  void OnCancel() override { finish(grpc::Status::CANCELLED); }

  void OnDone() override {
    controller_.unsubscribe(this);
    delete this;
  }

 private:
  void prepareWriteLocked(const v1::RouteSnapshot& snapshot) {
    out_ = snapshot;
    last_nonce_ = std::to_string(++nonce_);
    last_version_ = snapshot.version();
    out_.set_nonce(last_nonce_);
    writing_ = true;
  }

  // An ACK or NACK (or a stale answer to an older nonce, ignored).
  void answer() {
    std::string version;
    {
      std::lock_guard lock(mu_);
      if (request_.response_nonce() != last_nonce_) {
        controller_.counters().stale_responses.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      version = last_version_;
    }
    if (request_.has_error_detail()) {
      controller_.nack(this, request_.version_info(), version, request_.error_detail());
    } else {
      controller_.ack(this, request_.version_info());
    }
  }

  // Finishes once; waits for a write in flight (OnWriteDone finishes then).
  void finish(grpc::Status status) {
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      finished_ = true;
      pending_.reset();
      if (writing_) {
        finish_status_ = std::move(status);
        return;
      }
    }
    Finish(status);
  }

  Controller& controller_;
  v1::RouteRequest request_;  // only the read path touches it (one read at a time)
  bool subscribed_ = false;
  std::string node_id_;

  std::mutex mu_;
  v1::RouteSnapshot out_;
  bool writing_ = false;
  bool finished_ = false;
  std::optional<grpc::Status> finish_status_;
  std::shared_ptr<const v1::RouteSnapshot> pending_;
  std::uint64_t nonce_ = 0;
  std::string last_nonce_;
  std::string last_version_;
};

}  // namespace

grpc::Status authorize(const grpc::CallbackServerContext& context, const TokenChecker* checker,
                       Counters& counters, std::string_view call) {
  if (checker == nullptr) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  const bool ok = it != metadata.end() &&
                  checker->check(std::string_view(it->second.data(), it->second.size()));
  if (ok) return grpc::Status::OK;
  counters.auth_failures.fetch_add(1, std::memory_order_relaxed);
  log::warn(call, ": rejected a call from ", context.peer(), ": ",
            it == metadata.end() ? "no authorization metadata" : "wrong token");
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "missing or wrong token (authorization: Bearer <token>)");
}

grpc::ServerBidiReactor<v1::RouteRequest, v1::RouteSnapshot>* RouteDiscoveryService::StreamRoutes(
    grpc::CallbackServerContext* context) {
  return new StreamRoutesReactor(
      controller_, authorize(*context, node_tokens_, controller_.counters(), "StreamRoutes"));
}

}  // namespace llmgate::control::service

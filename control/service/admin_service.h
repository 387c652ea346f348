// The Admin service (admin.proto). Every call needs the admin token.
#pragma once

#include "control/service/controller.h"
#include "control/service/token_check.h"
#include "llmgate/control/v1/admin.grpc.pb.h"

namespace llmgate::control::service {

class AdminService final : public llmgate::control::v1::Admin::CallbackService {
 public:
  AdminService(Controller& controller, const TokenChecker& admin_token)
      : controller_(controller), admin_token_(admin_token) {}

  grpc::ServerUnaryReactor* ListTargets(grpc::CallbackServerContext* context,
                                        const v1::ListTargetsRequest* request,
                                        v1::ListTargetsResponse* response) override;
  grpc::ServerUnaryReactor* GetThresholds(grpc::CallbackServerContext* context,
                                          const v1::GetThresholdsRequest* request,
                                          v1::GetThresholdsResponse* response) override;
  grpc::ServerUnaryReactor* SetThresholds(grpc::CallbackServerContext* context,
                                          const v1::SetThresholdsRequest* request,
                                          v1::SetThresholdsResponse* response) override;
  grpc::ServerUnaryReactor* SetOverride(grpc::CallbackServerContext* context,
                                        const v1::SetOverrideRequest* request,
                                        v1::SetOverrideResponse* response) override;
  grpc::ServerUnaryReactor* ClearOverride(grpc::CallbackServerContext* context,
                                          const v1::ClearOverrideRequest* request,
                                          v1::ClearOverrideResponse* response) override;
  grpc::ServerUnaryReactor* GetRouteTable(grpc::CallbackServerContext* context,
                                          const v1::GetRouteTableRequest* request,
                                          v1::GetRouteTableResponse* response) override;
  grpc::ServerWriteReactor<v1::Decision>* WatchDecisions(
      grpc::CallbackServerContext* context, const v1::WatchDecisionsRequest* request) override;

 private:
  Controller& controller_;
  const TokenChecker& admin_token_;
};

}  // namespace llmgate::control::service

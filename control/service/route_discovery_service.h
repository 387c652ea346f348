// RouteDiscovery.StreamRoutes: one ServerBidiReactor per subscribed proxy
// (route_discovery.proto has the protocol).
#pragma once

#include "control/service/controller.h"
#include "control/service/token_check.h"
#include "llmgate/control/v1/route_discovery.grpc.pb.h"

namespace llmgate::control::service {

// Reads `authorization` metadata and checks it; OK when `checker` is unset
// (no token required). Failures are counted; the token is never logged.
grpc::Status authorize(const grpc::CallbackServerContext& context, const TokenChecker* checker,
                       Counters& counters, std::string_view call);

class RouteDiscoveryService final : public llmgate::control::v1::RouteDiscovery::CallbackService {
 public:
  // `node_tokens` null: proxies need no token.
  RouteDiscoveryService(Controller& controller, const TokenChecker* node_tokens)
      : controller_(controller), node_tokens_(node_tokens) {}

  grpc::ServerBidiReactor<v1::RouteRequest, v1::RouteSnapshot>* StreamRoutes(
      grpc::CallbackServerContext* context) override;

 private:
  Controller& controller_;
  const TokenChecker* node_tokens_;
};

}  // namespace llmgate::control::service

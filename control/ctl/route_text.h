// `llmgatectl routes` text for one route rule: its conditions in the order
// of docs/ROUTING.md's table, then its targets or split arms, e.g.
//   task=code tenant=acme,beta tokens>=100 tools=true -> model-a,model-b
//   response_format=json_object budget=low -> split 90:model-a | 10:model-b
// A regex is quoted with slashes (/^translate/).
#pragma once

#include <string>

#include "llmgate/control/v1/route_discovery.pb.h"

namespace llmgate::control::ctl {

std::string ruleText(const ::llmgate::control::v1::RouteRule& rule);

}  // namespace llmgate::control::ctl

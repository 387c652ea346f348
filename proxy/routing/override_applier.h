// Control-plane overrides (config::Config::overrides, route_discovery.proto
// `Override`) applied to a resolved route decision:
//  - Pin (subject = the model or alias the client asked for): exactly [to],
//    no fallbacks; ignores every other override.
//  - Shift (subject = a model, wherever it sits in the target list, whether
//    the client named it or an alias chose it): with probability `weight`
//    the subject's place goes to `to` (a later duplicate of `to` is dropped);
//    otherwise (the probe share) the subject keeps its place. One draw per
//    shift per request.
//  - Drain (subject = a model): the subject is skipped, the following
//    targets (its fallbacks, the route's next targets) serve; when nothing
//    else is left the list stays as it was rather than failing the request.
// Overrides whose expires_at has passed on `now` are ignored. Each applied
// override appends "; override=<id>" to the decision's label
// (x-llmgate-route).
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include "common/config/schema.h"
#include "proxy/routing/router.h"

namespace llmgate::proxy::routing {

// A number in [0, 1); injectable so tests decide the shift draw.
using UniformDraw = std::function<double()>;

void applyOverrides(const config::Config& config, std::string_view requested,
                    RouteDecision& decision, std::chrono::system_clock::time_point now,
                    const UniformDraw& draw);

// The same with the system clock and a per-thread random engine: what
// resolveRoute calls. Free when there are no overrides.
void applyOverrides(const config::Config& config, std::string_view requested,
                    RouteDecision& decision);

}  // namespace llmgate::proxy::routing

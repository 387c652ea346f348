// Kubernetes resource quantities ("100m", "1.5", "128Mi", "1e3"), as the API
// server accepts them for container resources: a non-negative decimal number
// with an optional binary (Ki..Ei), decimal (m, k, M..E) or exponent suffix.
#pragma once

#include <optional>
#include <string_view>

namespace llmgate::config {

// The quantity's value in base units (cores, bytes), or nullopt when `text`
// is not a quantity the API server would accept for a resource.
std::optional<double> parseK8sQuantity(std::string_view text);

}  // namespace llmgate::config

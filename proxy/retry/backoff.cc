#include "proxy/retry/backoff.h"

#include <algorithm>

namespace llmgate::proxy::retry {

config::Duration fullJitterBackoff(int retry_index, config::Duration base_delay,
                                   config::Duration max_delay, std::mt19937_64& rng) {
  const int shift = std::clamp(retry_index, 0, 30);
  const double ceiling = std::min(static_cast<double>(max_delay.count()),
                                  static_cast<double>(base_delay.count()) * double(1u << shift));
  if (ceiling <= 0) return config::Duration(0);
  std::uniform_real_distribution<double> uniform(0.0, ceiling);
  return config::Duration(static_cast<config::Duration::rep>(uniform(rng)));
}

}  // namespace llmgate::proxy::retry

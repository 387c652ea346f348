// Exponential backoff with full jitter (AWS architecture blog's "full
// jitter"): the n-th retry waits U[0, min(max_delay, base_delay * 2^n)).
#pragma once

#include <random>

#include "common/config/schema.h"

namespace llmgate::proxy::retry {

// retry_index: 0 for the first retry, 1 for the second...
config::Duration fullJitterBackoff(int retry_index, config::Duration base_delay,
                                   config::Duration max_delay, std::mt19937_64& rng);

}  // namespace llmgate::proxy::retry

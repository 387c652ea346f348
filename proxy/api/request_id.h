// x-request-id: a client's own id is kept when it is sane, else one is made.
#pragma once

#include <random>
#include <string>
#include <string_view>

namespace llmgate::proxy::api {

// True for 1..128 characters of [A-Za-z0-9._:-].
bool isAcceptableRequestId(std::string_view id);

// "req_" + 24 hex digits from the given generator (one per worker thread).
std::string makeRequestId(std::mt19937_64& rng);

}  // namespace llmgate::proxy::api

// Serving a cached (non-streamed) chat.completion to a `stream: true` request:
// the same answer as an OpenAI SSE stream (R42).
#pragma once

#include <string>

#include "proxy/cache/cache.h"

namespace llmgate::proxy::cache {

// The whole SSE body, in the order OpenAI sends it: per choice a role delta
// (role "assistant", content ""), the content (and refusal) split into a few
// deltas on UTF-8 boundaries, tool_calls deltas (id/type/name first, then the
// arguments), and a finish chunk with an empty delta and the finish_reason;
// then, only when `include_usage` (stream_options.include_usage), a usage chunk
// with `choices: []` (every earlier chunk then carries "usage": null); then
// "data: [DONE]\n\n". Chunks keep the completion's id, created, model,
// system_fingerprint and service_tier. A choice's logprobs ride on its first
// content chunk.
//
// Returns an empty string if `response.body` is not a chat.completion object
// (cannot happen for values built by makeCachedResponse); treat it as a miss.
std::string toSseReplay(const CachedResponse& response, bool include_usage);

}  // namespace llmgate::proxy::cache

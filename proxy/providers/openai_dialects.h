// Request-body quirks of the OpenAI-compatible providers
// (../shared/PROVIDERS.md §1 DeepSeek, §5 Mistral), applied by OpenAiAdapter
// after the model name is rewritten.
#pragma once

#include <string>
#include <string_view>

#include "boost/json/object.hpp"
#include "boost/json/value.hpp"

namespace llmgate::proxy::providers {

// DeepSeek: role `developer` (rejected with a 400) becomes `system`; a
// content array made only of text parts is flattened to one string.
void prepareDeepSeekBody(boost::json::object& body);

// Mistral's strict schema (422 extra_forbidden otherwise): `seed` →
// `random_seed`, `max_completion_tokens` → `max_tokens`, `tool_choice:
// "required"` → `"any"`, `developer` → `system`; top-level fields outside its
// whitelist (stream_options, user, logprobs, store, metadata...) and message
// fields it refuses (`name`, assistant `reasoning_content`, `tool_calls` on
// non-assistant messages) are dropped; tool-call ids are rewritten to
// mistralToolCallId() in assistant `tool_calls` and `tool` messages alike.
void prepareMistralBody(boost::json::object& body);

// Mistral's `finish_reason: "model_length"` (the context window was reached)
// becomes OpenAI's `length`, so truncation handling sees it.
void mapMistralFinishReasons(boost::json::value& response);

// A 9-character [a-zA-Z0-9] id for `id`: `id` itself when it already is one,
// else a deterministic hash of it (so an assistant tool call and the tool
// message answering it keep matching).
std::string mistralToolCallId(std::string_view id);

// The DashScope region a base_url host belongs to ("" when not a known
// DashScope host). Keys are region-bound: a key of another region gets 401.
std::string_view dashScopeRegion(std::string_view host);

}  // namespace llmgate::proxy::providers

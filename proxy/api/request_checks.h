// Checks and errors shared by the chat and embeddings request parsers.
// Internal to proxy/api.
#pragma once

#include <array>
#include <string_view>

#include "proxy/api/api_error.h"

namespace llmgate::proxy::api::detail {

// The deepest nesting a request body may have (objects and arrays).
inline constexpr int kMaxJsonDepth = 64;

// Fields a client could use to steer the upstream connection or credentials
// (../shared/RELIABILITY.md case 50). Providers never need them from a client.
// In this order: the first one present is reported.
inline constexpr std::array<std::string_view, 9> kForbiddenFields = {
    "api_base", "base_url",     "api_key", "extra_headers", "api_version", "custom_llm_provider",
    "provider", "organization", "headers"};

// `where` + `key` is not accepted (where: "" or e.g. "extra_body.").
ApiError forbiddenParameter(std::string_view where, std::string_view key);

// `model` is missing, or is not a non-empty string of at most 256 bytes.
ApiError modelRequired();
ApiError modelNotAString();
inline bool validModelName(std::string_view model) { return !model.empty() && model.size() <= 256; }

}  // namespace llmgate::proxy::api::detail

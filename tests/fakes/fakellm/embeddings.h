// OpenAI-shaped embeddings with deterministic vectors.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fakes/fakellm/errors.h"

namespace llmgate::fakellm {

// A unit-length vector of `dims` floats derived from a hash of `input`.
std::vector<float> embeddingVector(std::string_view input, int dims);

struct EmbeddingsResult {
  std::optional<ErrorSpec> error;  // set when the request is invalid
  std::string body;
};

// Answers an embeddings request: one vector per input (a string, an array of
// strings, or token arrays), `dimensions` honoured, `encoding_format: base64`
// as little-endian float32, usage.prompt_tokens = sum of ceil(chars / 4).
EmbeddingsResult embeddingsResponse(const boost::json::value& request, int default_dims);

// GET /models in the dialect's list shape.
std::string modelsBody(Dialect dialect, int64_t created);

// DeepSeek GET /user/balance.
std::string_view deepSeekBalanceBody();

// What an HTML-speaking proxy in front of a provider sends (malformed: "html").
std::string_view badGatewayHtml();

}  // namespace llmgate::fakellm

// Shared steps of sending one request to a provider and answering the client.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "boost/asio/awaitable.hpp"
#include "boost/json/value.hpp"
#include "proxy/api/answer_summary.h"
#include "proxy/api/api_error.h"
#include "proxy/api/chat_request.h"
#include "proxy/providers/adapter.h"
#include "proxy/routing/router.h"
#include "proxy/runtime/request_context.h"
#include "proxy/upstream/upstream_call.h"

namespace llmgate::proxy::handlers {

// The client-facing error for a failed exchange (docs/ERRORS.md).
api::ApiError toApiError(const upstream::UpstreamError& error,
                         const config::ProviderConfig& provider);

// A POST to `target` on the provider, with its credentials and our headers.
// The request views `body`, which must outlive the call.
upstream::UpstreamCall::Request makeUpstreamRequest(const config::ProviderConfig& provider,
                                                    const providers::ProviderAdapter& adapter,
                                                    std::string target, std::string_view body,
                                                    bool stream);

upstream::CallDeadlines deadlinesFor(const config::ProviderConfig& provider, time::SteadyTime start,
                                     bool stream);

// Adds x-llmgate-provider / -model / -route for the chosen target.
void describeTarget(runtime::ResponseWriter& writer, const routing::Target& target,
                    const std::string& route_label);

// `body` serialized as boost::json::serialize would after setting "model"
// to `model` and `limit_key` to `limit` (replaced in place when present,
// else appended last), without copying the object.
std::string serializeChatBody(const boost::json::object& body, std::string_view model,
                              std::string_view limit_key, std::uint64_t limit);

// The client's own bytes with the values of "model" and `limit_key`
// replaced (the limit appended last when absent): the upstream gets the body
// as sent, without a serialization. `raw` must be the text the request was
// parsed from (valid JSON, an object); `model_key_at` and `limit_key_at` are
// where those keys' opening quotes are in it (api::ChatRequest::key_at),
// `limit_key_at` npos when the body has no `limit_key` (the caller must not
// pass npos for a limit key the body has, e.g. written with escapes). nullopt
// when `model_key_at` is npos: use serializeChatBody then.
std::optional<std::string> spliceChatBody(std::string_view raw, std::size_t model_key_at,
                                          std::size_t limit_key_at, std::string_view model,
                                          std::string_view limit_key, std::uint64_t limit);

// The upstream body for a provider that only renames the model: the
// client's bytes (`raw`, the text `req` was parsed from) with "model" and the
// output limit replaced in place (spliceChatBody); serializeChatBody when
// "model" or the limit key present is written with escapes. The limit key is
// max_completion_tokens when the client sent it, else max_tokens.
std::string renamedChatBody(const api::ChatRequest& req, std::string_view raw,
                            std::string_view model, std::uint64_t limit);

// A 2xx non-streamed answer, checked: Content-Type application/json, the
// leading blank lines DeepSeek sends while a request is queued dropped, and
// a complete JSON object. `problem` says what was wrong, if anything; else
// `summary` holds what llmgate reads from it (one SAX pass, no DOM).
struct UnaryAnswer {
  std::string body;
  api::AnswerSummary summary;
  std::optional<upstream::UpstreamError> problem;
};
UnaryAnswer checkUnaryAnswer(const upstream::UpstreamCall::ResponseHeader& header,
                             std::string body);

// For adapters that translate answers (Anthropic): parses the checked
// answer, rewrites it into a chat.completion, and replaces `body` and
// `summary` with the translation's. Sets `problem` when it cannot.
void translateUnaryAnswer(UnaryAnswer& answer, const providers::ProviderAdapter& adapter);

// Non-streaming: reads the whole answer and passes it on (2xx must be a JSON
// object, else 502 upstream_protocol_error); non-2xx is mapped by the adapter.
boost::asio::awaitable<void> relayUnary(runtime::RequestContext& ctx, upstream::UpstreamCall& call,
                                        const providers::ProviderAdapter& adapter,
                                        const config::ProviderConfig& provider);

}  // namespace llmgate::proxy::handlers

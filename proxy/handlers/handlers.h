// The data plane's endpoints. Each writes exactly one response through
// ctx.writer: a success, or an OpenAI-shaped error (docs/ERRORS.md).
#pragma once

#include "boost/asio/awaitable.hpp"
#include "proxy/runtime/request_context.h"

namespace llmgate::proxy::handlers {

// Coroutine rule for this folder: build values into named locals before
// co_await-ing on them. GCC 12 destroys some temporaries of a co_await
// full-expression twice (a double free was seen with a `?:` temporary).

// POST /v1/chat/completions (JSON or, with "stream": true, SSE relayed as it arrives).
boost::asio::awaitable<void> handleChatCompletions(runtime::RequestContext& ctx);
// POST /v1/embeddings, passed through to the model's provider.
boost::asio::awaitable<void> handleEmbeddings(runtime::RequestContext& ctx);
// GET /v1/models: configured models and route aliases.
boost::asio::awaitable<void> handleListModels(runtime::RequestContext& ctx);

}  // namespace llmgate::proxy::handlers

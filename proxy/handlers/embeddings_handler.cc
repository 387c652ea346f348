#include "boost/json/serialize.hpp"
#include "proxy/api/chat_request.h"
#include "proxy/handlers/handlers.h"
#include "proxy/handlers/upstream_exchange.h"

namespace llmgate::proxy::handlers {

boost::asio::awaitable<void> handleEmbeddings(runtime::RequestContext& ctx) {
  auto parsed = api::parseEmbeddingsRequest(ctx.request.body());
  if (auto* error = std::get_if<api::ApiError>(&parsed)) {
    co_await ctx.writer.sendError(*error);
    co_return;
  }
  api::EmbeddingsRequest& req = std::get<api::EmbeddingsRequest>(parsed);
  routing::RequestFacts facts;
  facts.tenant = ctx.tenant;
  facts.split_draw = routing::splitDraw(ctx.writer.requestId());
  const auto decision = routing::resolveRoute(*ctx.snapshot.config, req.model, facts);
  if (!decision) {
    {
      const api::ApiError error_to_send = api::ApiError::modelNotFound(req.model);
      co_await ctx.writer.sendError(error_to_send);
    }
    co_return;
  }
  const routing::Target& target = decision->targets.front();
  const config::ProviderConfig& provider = *target.provider;
  describeTarget(ctx.writer, target, decision->label);
  const providers::ProviderAdapter& adapter = providers::adapterFor(provider.kind);
  req.body["model"] = target.model->upstream_model;
  const std::string body_text = boost::json::serialize(req.body);
  auto upstream_request =
      makeUpstreamRequest(provider, adapter, adapter.embeddingsPath(provider), body_text, false);
  upstream::UpstreamCall call(ctx.pools.poolFor(provider),
                              deadlinesFor(provider, ctx.received_at, false));
  ctx.writer.setAttempts(1);
  if (upstream::UpstreamError error = co_await call.start(upstream_request)) {
    {
      const api::ApiError error_to_send = toApiError(error, provider);
      co_await ctx.writer.sendError(error_to_send);
    }
    co_return;
  }
  co_await relayUnary(ctx, call, adapter, provider);
}

}  // namespace llmgate::proxy::handlers

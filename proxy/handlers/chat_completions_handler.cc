#include "boost/json/serialize.hpp"
#include "common/text/str_cat.h"
#include "proxy/api/chat_request.h"
#include "proxy/api/sse_parser.h"
#include "proxy/handlers/handlers.h"
#include "proxy/handlers/upstream_exchange.h"

namespace llmgate::proxy::handlers {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using api::SseEvent;
using upstream::UpstreamError;
using upstream::UpstreamErrorKind;

bool isEventStream(const upstream::UpstreamCall::ResponseHeader& header) {
  auto it = header.find(http::field::content_type);
  return it != header.end() && it->value().substr(0, 17) == "text/event-stream";
}

api::ApiError streamCutError(const UpstreamError& error, const config::ProviderConfig& provider) {
  api::ApiError e = toApiError(error, provider);
  if (error.kind != UpstreamErrorKind::kIdleTimeout &&
      error.kind != UpstreamErrorKind::kTotalTimeout) {
    e.code = "stream_incomplete";
    e.message =
        strCat("The stream from provider `", provider.name, "` ended before it was complete (",
               error.detail, "). The answer above is partial.");
  }
  return e;
}

// Relays the provider's SSE stream event by event. Response headers wait for
// the first data event, so until then any failure is still a clean HTTP
// error; `: keep-alive` comments before it are absorbed (they neither count
// as the first byte nor reach the client), after it they pass through.
asio::awaitable<void> relayStream(runtime::RequestContext& ctx, upstream::UpstreamCall& call,
                                  const config::ProviderConfig& provider) {
  api::SseParser sse;
  std::string in;
  std::string out;
  bool saw_done = false;
  UpstreamError failure;
  while (!call.done()) {
    in.clear();
    failure = co_await call.readSome(in);
    if (failure) break;
    out.clear();
    const bool ok = sse.feed(in, [&](const SseEvent& event) {
      if (saw_done) return;  // nothing after [DONE] matters
      const bool data = event.kind == SseEvent::Kind::kData || event.kind == SseEvent::Kind::kDone;
      if (data && !ctx.writer.started() && out.empty()) call.markFirstByte();
      if (event.kind == SseEvent::Kind::kDone) saw_done = true;
      if (data || ctx.writer.started() || !out.empty()) out.append(event.raw);
    });
    if (!ok) {
      failure = {UpstreamErrorKind::kProtocolError, "an SSE event larger than 8 MiB"};
      break;
    }
    if (!out.empty()) {
      if (!ctx.writer.started() && !co_await ctx.writer.beginStream()) co_return;
      if (!co_await ctx.writer.sendChunk(out)) co_return;  // the client went away
    }
  }
  if (saw_done) {
    if (!ctx.writer.started() && !co_await ctx.writer.beginStream()) co_return;
    call.finish();
    co_await ctx.writer.endStream();
    co_return;
  }
  if (!failure)
    failure = {UpstreamErrorKind::kClosed, "the provider ended the stream without [DONE]"};
  if (!ctx.writer.started()) {
    {
      const api::ApiError error_to_send = toApiError(failure, provider);
      co_await ctx.writer.sendError(error_to_send);
    }
    co_return;
  }
  // Bytes already reached the client: end with one error event, no [DONE].
  ctx.writer.closeAfter();
  const std::string terminal_event = streamCutError(failure, provider).sseEvent();
  if (co_await ctx.writer.sendChunk(terminal_event)) {
    co_await ctx.writer.endStream();
  }
}

}  // namespace

asio::awaitable<void> handleChatCompletions(runtime::RequestContext& ctx) {
  auto parsed = api::parseChatRequest(ctx.request.body());
  if (auto* error = std::get_if<api::ApiError>(&parsed)) {
    co_await ctx.writer.sendError(*error);
    co_return;
  }
  api::ChatRequest& req = std::get<api::ChatRequest>(parsed);
  const config::Config& config = *ctx.snapshot.config;

  auto task = ctx.request.find("x-llmgate-task");
  const auto decision = routing::resolveRoute(
      config, req.model,
      task == ctx.request.end() ? std::string_view() : std::string_view(task->value()));
  if (!decision) {
    {
      const api::ApiError error_to_send = api::ApiError::modelNotFound(req.model);
      co_await ctx.writer.sendError(error_to_send);
    }
    co_return;
  }
  // Failover across decision->targets comes with the resilience issue.
  const routing::Target& target = decision->targets.front();
  const config::ProviderConfig& provider = *target.provider;
  describeTarget(ctx.writer, target, decision->label);
  const providers::ProviderAdapter& adapter = providers::adapterFor(provider.kind);
  if (!adapter.supported()) {
    {
      const api::ApiError error_to_send = api::ApiError::upstream(
          502, "provider_not_supported",
          strCat("Provider `", provider.name, "` is of kind `", config::toString(provider.kind),
                 "`, which this llmgate build cannot translate yet."));
      co_await ctx.writer.sendError(error_to_send);
    }
    co_return;
  }

  adapter.prepareChatBody(req.body, *target.model);
  auto upstream_request = makeUpstreamRequest(provider, adapter, adapter.chatPath(provider),
                                              boost::json::serialize(req.body), req.stream);
  upstream::UpstreamCall call(ctx.pools.poolFor(provider),
                              deadlinesFor(provider, ctx.received_at, req.stream));
  ctx.writer.setAttempts(1);
  if (UpstreamError error = co_await call.start(upstream_request)) {
    {
      const api::ApiError error_to_send = toApiError(error, provider);
      co_await ctx.writer.sendError(error_to_send);
    }
    co_return;
  }
  if (!req.stream || call.status() != 200) {
    co_await relayUnary(ctx, call, adapter, provider);
    co_return;
  }
  if (!isEventStream(call.header())) {
    {
      const api::ApiError error_to_send = toApiError(
          {UpstreamErrorKind::kProtocolError, "a non-SSE answer to a streaming request"}, provider);
      co_await ctx.writer.sendError(error_to_send);
    }
    co_return;
  }
  co_await relayStream(ctx, call, provider);
}

}  // namespace llmgate::proxy::handlers

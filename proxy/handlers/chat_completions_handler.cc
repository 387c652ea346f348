// POST /v1/chat/completions: plan the targets, then try them in order with
// retries, backoff that honours the provider's hints, a retry budget,
// ejection and failover; catch truncated answers (docs/RESILIENCE.md).
#include <algorithm>
#include <charconv>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/log/log.h"
#include "common/net/find_field.h"
#include "common/text/str_cat.h"
#include "proxy/api/chat_request.h"
#include "proxy/api/sse_parser.h"
#include "proxy/api/usage.h"
#include "proxy/cache/cache_key.h"
#include "proxy/cache/cache_policy.h"
#include "proxy/cache/sse_replay.h"
#include "proxy/cost/budget_gate.h"
#include "proxy/handlers/attempt_policy.h"
#include "proxy/handlers/handlers.h"
#include "proxy/handlers/upstream_exchange.h"
#include "proxy/retry/backoff.h"
#include "proxy/retry/rate_limit_headers.h"
#include "proxy/routing/request_facts.h"
#include "proxy/routing/task_classifier.h"
#include "proxy/routing/token_estimator.h"

namespace llmgate::proxy::handlers {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using api::SseEvent;
using upstream::UpstreamError;
using upstream::UpstreamErrorKind;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxUnaryBody = 64u << 20;
constexpr std::size_t kMaxErrorBody = 1u << 20;
constexpr int kMaxAttemptsPerRequest = 10;

struct AttemptResult {
  enum class Kind { kCommitted, kUnaryOk, kFailed };
  Kind kind = Kind::kFailed;
  std::string body;            // kUnaryOk: the provider's JSON, not yet sent
  api::AnswerSummary summary;  // kUnaryOk: what llmgate reads from it
  api::ApiError error;
  Verdict verdict;
  retry::RateLimitHints hints;
};

AttemptResult failed(api::ApiError error, Verdict verdict, retry::RateLimitHints hints = {}) {
  AttemptResult r;
  r.error = std::move(error);
  r.verdict = verdict;
  r.hints = hints;
  return r;
}

bool isEventStream(const upstream::UpstreamCall::ResponseHeader& header) {
  auto it = net::findField(header, http::field::content_type);
  return it != header.end() && it->value().substr(0, 17) == "text/event-stream";
}

double seconds(time::SteadyTime from, time::SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

// Usage reported by the provider: recorded (the budget settlement charges
// ctx.record.cost_usd) and fed back to the token estimator of that model.
void recordUsage(runtime::RequestContext& ctx, const routing::Target& target,
                 const routing::PromptEstimate& estimate, const api::Usage& usage) {
  ctx.record.prompt_tokens = usage.prompt_tokens;
  ctx.record.cached_prompt_tokens = usage.cached_prompt_tokens;
  ctx.record.completion_tokens = usage.completion_tokens;
  ctx.record.cost_usd = api::costUsd(usage, target.model->price_per_mtok);
  if (usage.prompt_tokens > 0) {
    const std::optional<routing::Script> dominant = estimate.scripts.dominant();
    ctx.snapshot.estimator->observe(target.model->name, estimate.tokens, usage.prompt_tokens,
                                    dominant);
    if (dominant) {  // llmgate_usd_per_1k_chars: the prompt side of the cost only
      const api::Usage prompt_side{usage.prompt_tokens, usage.cached_prompt_tokens, 0};
      ctx.snapshot.estimator->observeCost(target.model->name, *dominant, estimate.scripts.total(),
                                          api::costUsd(prompt_side, target.model->price_per_mtok));
    }
  }
}

std::string_view finishReason(const json::object& response) {
  const json::value* choices = response.if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) return {};
  const json::value& first = choices->get_array().front();
  if (!first.is_object()) return {};
  const json::value* reason = first.get_object().if_contains("finish_reason");
  return reason && reason->is_string() ? std::string_view(reason->get_string())
                                       : std::string_view();
}

bool isTruncation(std::string_view finish_reason) {
  return finish_reason == "length" || finish_reason == "insufficient_system_resource";
}

// Relays the provider's SSE stream event by event. Response headers wait for
// the first data event, so until then a failure is still retryable; `:
// keep-alive` comments before it are absorbed (they neither count as the
// first byte nor reach the client), after it they pass through.
asio::awaitable<AttemptResult> relayStream(runtime::RequestContext& ctx,
                                           upstream::UpstreamCall& call,
                                           const routing::Target& target, bool include_usage,
                                           const routing::PromptEstimate& estimate) {
  const config::ProviderConfig& provider = *target.provider;
  // Providers with another event format (Anthropic) are translated to
  // OpenAI chunks event by event; OpenAI-style streams pass byte for byte.
  std::unique_ptr<providers::StreamTranslator> translator =
      providers::adapterFor(provider.kind).newStreamTranslator(include_usage);
  std::string translated;
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
      if (translator && event.kind != SseEvent::Kind::kComment) {
        translated = translator->onEvent(event.event_name, event.data);
        if (translator->failed()) {
          saw_done = false;
          failure = {UpstreamErrorKind::kClosed,
                     strCat("the provider sent an error event: ", translator->errorMessage())};
          return;
        }
        if (translated.empty()) return;
        if (!ctx.writer.started() && out.empty()) {
          call.markFirstByte();
          ctx.record.ttft_s = seconds(ctx.received_at, time::steadyNow());
        }
        if (translator->finished()) saw_done = true;
        out.append(translated);
        return;
      }
      const bool data = event.kind == SseEvent::Kind::kData || event.kind == SseEvent::Kind::kDone;
      if (data && !ctx.writer.started() && out.empty()) {
        call.markFirstByte();
        ctx.record.ttft_s = seconds(ctx.received_at, time::steadyNow());
      }
      if (event.kind == SseEvent::Kind::kDone) saw_done = true;
      if (event.kind == SseEvent::Kind::kData &&
          event.data.find("\"usage\"") != std::string::npos) {
        boost::system::error_code ec;
        json::value chunk = json::parse(event.data, ec);
        if (!ec && chunk.is_object()) {
          if (auto usage = api::usageOf(chunk.get_object())) {
            recordUsage(ctx, target, estimate, *usage);
          }
          if (isTruncation(finishReason(chunk.get_object()))) ctx.record.truncated = true;
        }
      } else if (event.kind == SseEvent::Kind::kData &&
                 event.data.find("\"finish_reason\":\"length\"") != std::string::npos) {
        ctx.record.truncated = true;
      }
      if (data || ctx.writer.started() || !out.empty()) out.append(event.raw);
    });
    if (!ok) {
      failure = {UpstreamErrorKind::kProtocolError, "an SSE event larger than 8 MiB"};
      break;
    }
    if (failure) break;  // a translated error event
    if (!out.empty()) {
      if (!ctx.writer.started() && !co_await ctx.writer.beginStream()) break;
      if (!co_await ctx.writer.sendChunk(out)) break;  // the client went away
    }
  }
  if (saw_done) {
    if (!ctx.writer.started()) co_await ctx.writer.beginStream();
    call.finish();
    co_await ctx.writer.endStream();
    if (ctx.record.truncated) ctx.stats.onTruncation(target.model->name, "pass");
    AttemptResult done;
    done.kind = AttemptResult::Kind::kCommitted;
    co_return done;
  }
  if (!failure)
    failure = {UpstreamErrorKind::kClosed, "the provider ended the stream without [DONE]"};
  if (!ctx.writer.started()) {
    // Nothing reached the client: the attempt failed cleanly and may be retried.
    co_return failed(toApiError(failure, provider), classifyTransportFailure(failure.kind));
  }
  // Bytes already reached the client: end with one error event, no [DONE].
  api::ApiError cut = toApiError(failure, provider);
  if (failure.kind != UpstreamErrorKind::kIdleTimeout &&
      failure.kind != UpstreamErrorKind::kTotalTimeout &&
      failure.kind != UpstreamErrorKind::kShuttingDown) {
    cut.code = "stream_incomplete";
    cut.message =
        strCat("The stream from provider `", provider.name, "` ended before it was complete (",
               failure.detail, "). The answer above is partial.");
  }
  ctx.writer.closeAfter();
  ctx.writer.noteStreamError(cut.code);
  ctx.stats.onStreamCut(target.model->name, provider.name);
  const std::string terminal_event = cut.sseEvent();
  if (co_await ctx.writer.sendChunk(terminal_event)) co_await ctx.writer.endStream();
  AttemptResult committed;
  committed.kind = AttemptResult::Kind::kCommitted;
  committed.verdict = classifyTransportFailure(failure.kind);
  co_return committed;
}

// The non-2xx answer of an attempt, mapped to the client's error (its body
// read here; a plain function, so its temporaries stay off the coroutine
// frame).
void failFromStatus(AttemptResult& result, const providers::ProviderAdapter& adapter,
                    const config::ProviderConfig& provider, upstream::UpstreamCall& call,
                    const std::string& error_body) {
  api::ApiError mapped = adapter.mapError(call.status(), call.header(), error_body, provider);
  result.verdict = classifyHttpFailure(call.status(), mapped);
  result.error = std::move(mapped);
}

// A unary answer checked and, for other dialects, translated: the
// attempt's result either way.
void finishUnary(AttemptResult& result, runtime::RequestContext& ctx,
                 const providers::ProviderAdapter& adapter, const config::ProviderConfig& provider,
                 upstream::UpstreamCall& call, std::string response, bool stream) {
  ctx.record.ttft_s = seconds(ctx.received_at, time::steadyNow());
  UnaryAnswer answer = checkUnaryAnswer(call.header(), std::move(response));
  if (stream && !answer.problem) {
    answer.problem = {UpstreamErrorKind::kProtocolError, "a non-SSE answer to a streaming request"};
  }
  // Other dialects (Anthropic) are rewritten into OpenAI's chat.completion.
  if (!answer.problem && adapter.translatesAnswers()) translateUnaryAnswer(answer, adapter);
  if (answer.problem) {
    result.error = toApiError(*answer.problem, provider);
    result.verdict = classifyTransportFailure(answer.problem->kind);
    return;
  }
  result.kind = AttemptResult::Kind::kUnaryOk;
  result.body = std::move(answer.body);
  result.summary = answer.summary;
}

// One attempt on one target: send, then read (unary) or relay (stream).
// One result object, filled by whichever path ends the attempt: the
// coroutine frame holds one AttemptResult, not one per return.
asio::awaitable<AttemptResult> attemptOnce(runtime::RequestContext& ctx,
                                           const routing::Target& target, std::string_view body,
                                           bool stream, bool include_usage,
                                           const routing::PromptEstimate& estimate,
                                           time::SteadyTime deadline) {
  const config::ProviderConfig& provider = *target.provider;
  const providers::ProviderAdapter& adapter = providers::adapterFor(provider.kind);
  auto request = makeUpstreamRequest(provider, adapter, adapter.chatPath(provider), body, stream);
  const time::SteadyTime now = time::steadyNow();
  const upstream::CallDeadlines deadlines{
      .first_byte = std::min(now + provider.timeouts.first_byte, deadline),
      .total = std::min(now + provider.timeouts.total, deadline),
      .stream_idle = stream ? provider.timeouts.stream_idle : config::Duration(0)};
  upstream::UpstreamCall call(ctx.pools.poolFor(provider), deadlines);
  retry::RetryBudget::ActiveAttempt active(ctx.snapshot.health->provider(provider.name).budget());

  AttemptResult result;
  UpstreamError error = co_await call.start(request);
  if (error) {
    result.error = toApiError(error, provider);
    result.verdict = classifyTransportFailure(error.kind);
    co_return result;
  }
  result.hints = retry::parseRateLimitHeaders(call.header(), time::systemNow());
  const int status = call.status();
  if (status < 200 || status > 299) {
    std::string error_body;
    co_await call.readAll(error_body, kMaxErrorBody);
    call.finish();
    failFromStatus(result, adapter, provider, call, error_body);
    co_return result;
  }
  if (stream && isEventStream(call.header())) {
    co_return co_await relayStream(ctx, call, target, include_usage, estimate);
  }

  std::string response;
  error = co_await call.readAll(response, kMaxUnaryBody);
  if (error) {
    result.error = toApiError(error, provider);
    result.verdict = classifyTransportFailure(error.kind);
    co_return result;
  }
  call.finish();
  finishUnary(result, ctx, adapter, provider, call, std::move(response), stream);
  co_return result;
}

// The body sent to `target`: the client's, with the upstream model name and
// an explicit output limit that fits the target's context window. nullopt
// when the prompt alone does not fit.
// `raw` is the text `req` was parsed from.
std::optional<std::string> bodyFor(const api::ChatRequest& req, std::string_view raw,
                                   const routing::Target& target, std::uint64_t prompt_tokens,
                                   bool use_model_limit) {
  const config::ModelConfig& model = *target.model;
  if (prompt_tokens + 16 > model.context_window) return std::nullopt;
  const std::uint64_t room = model.context_window - prompt_tokens;
  std::uint64_t limit = model.max_output_tokens;
  if (req.max_tokens && !use_model_limit) limit = static_cast<std::uint64_t>(*req.max_tokens);
  limit = std::min(limit, room);
  const providers::ProviderAdapter& adapter = providers::adapterFor(target.provider->kind);
  if (adapter.onlyRenamesModel()) {
    return renamedChatBody(req, raw, model.upstream_model, limit);
  }
  json::object body = req.body();
  adapter.prepareChatBody(body, model);
  if (body.contains("max_completion_tokens")) {
    body["max_completion_tokens"] = limit;
  } else {
    body["max_tokens"] = limit;
  }
  return json::serialize(body);
}

// The client's own deadline: the OpenAI SDKs send X-Stainless-Timeout (seconds).
time::SteadyTime requestDeadline(const runtime::RequestContext& ctx) {
  time::SteadyTime deadline = ctx.received_at + ctx.snapshot.config->timeouts.total;
  if (auto it = net::findField(ctx.request, "x-stainless-timeout"); it != ctx.request.end()) {
    if (auto d = retry::parseDeltaSeconds(std::string_view(it->value())); d && d->count() > 0) {
      deadline = std::min(deadline, ctx.received_at + *d);
    }
  }
  return deadline;
}

// Answers from a cached completion (a hit, or a coalesced leader's answer):
// JSON as stored, or replayed as an SSE stream ending in [DONE].
asio::awaitable<void> respondFromCache(runtime::RequestContext& ctx, const api::ChatRequest& req,
                                       const cache::CachedResponse& cached,
                                       std::string_view label) {
  const config::ModelConfig* model = ctx.snapshot.config->findModel(cached.model);
  const config::ProviderConfig* provider = ctx.snapshot.config->findProvider(cached.provider);
  // Names in the record must outlive this call: take them from the config.
  ctx.record.model = model ? std::string_view(model->name) : "none";
  ctx.record.provider = provider ? std::string_view(provider->name) : "none";
  ctx.record.cache = label;
  if (model != nullptr) {
    const api::Usage usage{cached.prompt_tokens, cached.cached_prompt_tokens,
                           cached.completion_tokens};
    ctx.record.saved_usd = api::costUsd(usage, model->price_per_mtok);
  }
  ctx.writer.addHeader("x-llmgate-provider", cached.provider);
  ctx.writer.addHeader("x-llmgate-model", cached.model);
  ctx.writer.addHeader("x-llmgate-cache", std::string(label));
  ctx.writer.setAttempts(0);
  if (!req.stream) {
    // `cached` is held by the caller until the write is done: no copy.
    co_await ctx.writer.sendView(200, cached.body, "application/json");
    co_return;
  }
  const std::string replay = cache::toSseReplay(cached, req.include_usage);
  ctx.record.ttft_s = seconds(ctx.received_at, time::steadyNow());
  if (!co_await ctx.writer.beginStream()) co_return;
  if (!co_await ctx.writer.sendChunk(replay)) co_return;
  co_await ctx.writer.endStream();
}

// 429 budget_exceeded with Retry-After until the refusing window resets, or
// 503 budget_unavailable when the shared counters cannot be reached (R46:
// fail closed for tenants with a budget).
api::ApiError budgetError(const runtime::RequestContext& ctx,
                          const cost::BudgetAdmission& admission) {
  if (admission.verdict == cost::BudgetAdmission::Verdict::kUnavailable) {
    api::ApiError error = api::ApiError::upstream(
        503, "budget_unavailable",
        strCat("Tenant `", ctx.tenant,
               "` has a budget and the shared budget counters (cache.redis) cannot be reached; "
               "requests are refused rather than risk overspending. Retry shortly."));
    error.retry_after = "1";
    return error;
  }
  const bool minute = admission.window == cost::BudgetWindow::kMinute;
  api::ApiError error = api::ApiError::upstream(
      429, "budget_exceeded",
      strCat("Tenant `", ctx.tenant, "` has used its ", minute ? "per-minute" : "daily",
             " budget (clients[].budget.", minute ? "usd_per_minute" : "usd_per_day", ")."));
  error.type = "rate_limit_error";
  error.retry_after = std::to_string(ctx.snapshot.budgets->secondsUntilReset(admission.window));
  return error;
}

// Replaces the budget reservation by the request's actual cost
// (ctx.record.cost_usd, 0 when nothing was served) when the handler ends,
// whichever way it ends: the settlement runs detached on the worker.
class BudgetSettlement {
 public:
  BudgetSettlement(runtime::RequestContext& ctx, cost::BudgetAdmission admission,
                   asio::any_io_executor executor)
      : ctx_(ctx), admission_(admission), executor_(std::move(executor)) {}
  BudgetSettlement(const BudgetSettlement&) = delete;
  BudgetSettlement& operator=(const BudgetSettlement&) = delete;
  ~BudgetSettlement() {
    std::shared_ptr<cost::BudgetTracker> tracker = ctx_.snapshot.budgets;
    // A 200 relayed without usage (a stream whose client did not ask for
    // include_usage) was still paid for: keep the estimate rather than 0.
    const bool usage_seen = ctx_.record.prompt_tokens > 0 || ctx_.record.completion_tokens > 0;
    const bool from_cache =
        ctx_.record.cache.starts_with("hit") || ctx_.record.cache == "coalesced";
    double actual = ctx_.record.cost_usd;
    if (!usage_seen && !from_cache && ctx_.writer.status() == 200) actual = admission_.reserved_usd;
    asio::co_spawn(executor_,
                   settle(std::move(tracker), ctx_.redis, ctx_.tenant, admission_, actual),
                   asio::detached);
  }

 private:
  static asio::awaitable<void> settle(std::shared_ptr<cost::BudgetTracker> tracker,
                                      cache::RedisCache* redis, std::string tenant,
                                      cost::BudgetAdmission admission, double actual_usd) {
    co_await cost::settleBudget(*tracker, redis, std::move(tenant), admission, actual_usd);
  }

  runtime::RequestContext& ctx_;
  cost::BudgetAdmission admission_;
  asio::any_io_executor executor_;
};

std::string retryAfterSeconds(time::SteadyTime until, time::SteadyTime now) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
  return std::to_string(std::max<long long>(1, (ms + 999) / 1000));
}

}  // namespace

asio::awaitable<void> handleChatCompletions(runtime::RequestContext& ctx) {
  auto parsed = api::parseChatRequest(ctx.request.body());
  if (auto* error = std::get_if<api::ApiError>(&parsed)) {
    co_await ctx.writer.sendError(*error);
    co_return;
  }
  const api::ChatRequest& req = std::get<api::ChatRequest>(parsed);
  const config::Config& config = *ctx.snapshot.config;
  upstream::HealthRegistry& health = *ctx.snapshot.health;
  ctx.record.stream = req.stream;

  // The task class: the client's x-llmgate-task hint, else the classifier.
  std::optional<routing::TaskClass> task;
  if (auto hint = net::findField(ctx.request, "x-llmgate-task"); hint != ctx.request.end()) {
    task = routing::parseTaskClass(std::string_view(hint->value()));
    if (!task) {
      api::ApiError bad = api::ApiError::invalidRequest(
          "x-llmgate-task must be one of code, structured, summarize, reasoning, creative, chat.",
          "x-llmgate-task");
      co_await ctx.writer.sendError(bad);
      co_return;
    }
  }
  // Only a route alias needs the task class; a model named directly does not.
  if (!task && config.findRoute(req.model) != nullptr) {
    if (log::enabled(log::Level::kDebug)) {
      routing::Explanation why;
      task = routing::classify(req.body(), &why);
      log::debug("request ", ctx.writer.requestId(), " classified: ", why.toString());
    } else {
      task = routing::classify(req.body());
    }
  }
  // One scan of the prompt; each model's calibration is a ratio applied to it.
  // Made on first use: a model named directly that is answered from the cache
  // (without a budget to check) never needs it.
  std::optional<routing::PromptEstimate> estimate_once;
  const auto raw_estimate = [&]() -> const routing::PromptEstimate& {
    if (!estimate_once) estimate_once = routing::estimatePrompt(req);
    return *estimate_once;
  };
  const auto calibrated = [&](const config::ModelConfig& model) {
    const routing::PromptEstimate& estimate = raw_estimate();
    return static_cast<std::uint64_t>(
        estimate.tokens * ctx.snapshot.estimator->ratio(model.name, estimate.scripts.dominant()));
  };
  routing::RequestFacts facts;
  facts.task = task ? routing::toString(*task) : std::string_view();
  facts.tenant = ctx.tenant;
  facts.budget_low = ctx.snapshot.budgets->low(ctx.tenant);
  facts.split_draw = routing::splitDraw(ctx.writer.requestId());
  if (config.findRoute(req.model) != nullptr) {  // only an alias's rules read the body
    facts.prompt_tokens = static_cast<std::uint64_t>(raw_estimate().tokens);
    routing::readBodyFacts(req.body(), facts);
  }
  auto decision = routing::resolveRoute(config, req.model, facts);
  if (!decision) {
    const api::ApiError not_found = api::ApiError::modelNotFound(req.model);
    co_await ctx.writer.sendError(not_found);
    co_return;
  }
  ctx.record.route = decision->name;
  ctx.stats.onRouteDecision(decision->name, decision->rule);
  ctx.writer.addHeader("x-llmgate-route", decision->label);
  log::debug("request ", ctx.writer.requestId(), " routed: ", decision->label);

  const time::SteadyTime deadline = requestDeadline(ctx);

  // A tenant over its budget is refused before any upstream call; the
  // request's estimated cost is reserved (in Redis when configured) and
  // replaced by the actual cost when the handler ends (BudgetSettlement).
  std::optional<BudgetSettlement> settlement;
  if (ctx.snapshot.budgets->budgeted(ctx.tenant)) {
    const config::ModelConfig& model = *decision->targets.front().model;
    const double reserve = static_cast<double>(req.max_tokens.value_or(256));
    const double estimated_usd =
        (static_cast<double>(calibrated(model)) * model.price_per_mtok.input +
         reserve * model.price_per_mtok.output) /
        1e6;
    std::string tenant = ctx.tenant;
    cost::BudgetAdmission admission = co_await cost::admitBudget(*ctx.snapshot.budgets, ctx.redis,
                                                                 std::move(tenant), estimated_usd);
    if (admission.verdict != cost::BudgetAdmission::Verdict::kAllowed) {
      api::ApiError refused = budgetError(ctx, admission);
      ctx.stats.onBudgetRefused(ctx.tenant);
      co_await ctx.writer.sendError(refused);
      co_return;
    }
    asio::any_io_executor executor = co_await asio::this_coro::executor;
    settlement.emplace(ctx, admission, std::move(executor));
  }

  // The cache (docs/CACHE.md): a repeated deterministic request is answered
  // without an upstream call; identical requests in flight share one call.
  auto cache_header = net::findField(ctx.request, cache::kCacheHeader);
  auto directive = cache::parseCacheDirective(
      cache_header == ctx.request.end()
          ? std::nullopt
          : std::optional<std::string_view>(std::string_view(cache_header->value())));
  if (auto* error = std::get_if<api::ApiError>(&directive)) {
    co_await ctx.writer.sendError(*error);
    co_return;
  }
  const cache::CacheMode mode =
      ctx.cache == nullptr
          ? cache::CacheMode::kOff
          : cache::parseCacheMode(config.cache.mode).value_or(cache::CacheMode::kOff);
  const cache::CacheDecision plan =
      cache::decideCache(mode, std::get<cache::CacheDirective>(directive), req);
  const routing::Target& primary = decision->targets.front();
  std::optional<cache::CacheKey> cache_key;
  if (plan.lookup || plan.store) {
    cache_key = cache::makeCacheKey(ctx.tenant, primary.model->name, primary.provider->name,
                                    primary.model->upstream_model, req.body());
  }
  if (plan.lookup && ctx.cache != nullptr) {
    std::optional<cache::CacheHit> hit = co_await ctx.cache->lookup(*cache_key);
    const bool l1_hit = hit && hit->tier == cache::CacheTier::kL1;
    ctx.stats.onCacheLookup("l1", l1_hit ? "hit" : "miss");
    if (!l1_hit && config.cache.redis) {
      ctx.stats.onCacheLookup("l2", hit ? "hit" : "miss");
      ctx.stats.setCacheL2Available(ctx.cache->l2Available());
    }
    if (hit) {
      co_await respondFromCache(ctx, req, *hit->response, l1_hit ? "hit-l1" : "hit-l2");
      co_return;
    }
  }
  if (plan.only_if_cached) {
    api::ApiError miss = api::ApiError::upstream(
        504, "cache_miss",
        "No cached answer for this request, and x-llmgate-cache: only-if-cached forbids "
        "calling a provider.");
    ctx.record.cache = "miss";
    co_await ctx.writer.sendError(miss);
    co_return;
  }
  // Streams are not coalesced (a leader's stream is not stored as a whole).
  std::optional<cache::Coalescer::Leader> leader;
  if (plan.lookup && plan.store && !req.stream && ctx.coalescer != nullptr) {
    auto joined = ctx.coalescer->join(cache_key->value);
    if (auto* follower = std::get_if<cache::Coalescer::Follower>(&joined)) {
      cache::FollowResult shared = co_await follower->wait(deadline);
      if (shared.outcome == cache::FollowResult::Outcome::kShared && shared.response) {
        co_await respondFromCache(ctx, req, *shared.response, "coalesced");
        co_return;
      }
      // The leader failed or our deadline came: go on alone.
    } else {
      leader.emplace(std::move(std::get<cache::Coalescer::Leader>(joined)));
    }
  }
  ctx.record.cache = plan.lookup ? "miss" : "bypass";
  ctx.writer.addHeader("x-llmgate-cache", std::string(ctx.record.cache));
  std::vector<routing::Target> targets = decision->targets;
  std::vector<std::string> failures;  // "model (provider): what happened", for the final message
  std::optional<api::ApiError> last_error;
  std::optional<time::SteadyTime> earliest_return;  // of skipped (ejected/cooling) targets
  bool skipped_for_rate_limit = false;
  int attempts = 0;
  bool reprocessing = false;

  for (std::size_t index = 0; index < targets.size();) {
    const routing::Target& target = targets[index];
    const config::ProviderConfig& provider = *target.provider;
    const config::RetryPolicy& policy = provider.retry;
    upstream::TargetState& target_health = health.target(target.model->name);
    upstream::ProviderState& provider_health = health.provider(provider.name);
    const time::SteadyTime now = time::steadyNow();

    // Skip what cannot serve now: ejected, cooling down, or too small for the prompt.
    std::string skip;
    if (target_health.ejected(now)) {
      skip = "ejected after consecutive failures";
      earliest_return = std::min(earliest_return.value_or(target_health.ejectedUntil()),
                                 target_health.ejectedUntil());
    } else if (auto reason = provider_health.skipped(now); reason != upstream::SkipReason::kNone) {
      skip = reason == upstream::SkipReason::kQuota ? "quota exhausted"
                                                    : "rate limited (cooling down)";
      skipped_for_rate_limit = skipped_for_rate_limit || reason == upstream::SkipReason::kCooldown;
      earliest_return = std::min(earliest_return.value_or(provider_health.skippedUntil()),
                                 provider_health.skippedUntil());
    }
    std::optional<std::string> body;
    if (skip.empty()) {
      const std::uint64_t prompt_tokens = calibrated(*target.model);
      body =
          bodyFor(req, std::string_view(ctx.request.body()), target, prompt_tokens, reprocessing);
      if (!body) skip = strCat("prompt (~", prompt_tokens, " tokens) exceeds its context window");
    }
    if (!skip.empty()) {
      failures.push_back(strCat(target.model->name, " (", provider.name, "): ", skip));
      ++index;
      continue;
    }

    // Attempts on this target: the first, then retries while transient.
    int attempts_here = 0;
    bool next_target = false;
    while (!next_target) {
      describeTarget(ctx.writer, target, decision->label);
      ctx.record.model = target.model->name;
      ctx.record.provider = provider.name;
      ++attempts;
      ++attempts_here;
      ctx.writer.setAttempts(attempts);
      const time::SteadyTime attempt_start = time::steadyNow();
      const routing::PromptEstimate& estimate = raw_estimate();
      AttemptResult result = co_await attemptOnce(ctx, target, *body, req.stream, req.include_usage,
                                                  estimate, deadline);
      if (result.hints.exhausted_for) {
        provider_health.coolDown(time::steadyNow() + *result.hints.exhausted_for);
      }

      if (result.kind != AttemptResult::Kind::kFailed) {
        const bool cut =
            result.kind == AttemptResult::Kind::kCommitted && !ctx.writer.errorCode().empty();
        ctx.stats.onUpstreamAttempt(
            target.model->name, provider.name,
            cut ? result.verdict.outcome : telemetry::AttemptOutcome::kSuccess);
        if (!cut) {
          std::optional<double> attempt_ttft;
          if (req.stream && ctx.record.ttft_s) {
            attempt_ttft =
                std::max(0.0, *ctx.record.ttft_s - seconds(ctx.received_at, attempt_start));
          }
          ctx.stats.onAttemptTiming(target.model->name, provider.name,
                                    seconds(attempt_start, time::steadyNow()), attempt_ttft);
        }
        if (cut && result.verdict.counts_for_ejection) {
          if (target_health.recordFailure(config.failover, time::steadyNow())) {
            ctx.stats.onEjection(target.model->name, provider.name);
          }
        } else if (!cut) {
          target_health.recordSuccess();
        }
        if (result.kind == AttemptResult::Kind::kCommitted) co_return;

        // A complete JSON answer: check it was not silently truncated.
        const api::AnswerSummary& summary = result.summary;
        if (summary.usage) recordUsage(ctx, target, estimate, *summary.usage);
        const bool truncated = isTruncation(summary.finishReason());
        if (truncated) {
          const config::TruncationConfig& rule = config.truncation;
          const config::ModelConfig* larger = config.findModel(rule.reprocess_on);
          if (rule.action == "reprocess" && !reprocessing && larger != nullptr &&
              larger != target.model && attempts < kMaxAttemptsPerRequest) {
            ctx.stats.onTruncation(target.model->name, "reprocess");
            ctx.stats.onFailover(target.model->name, larger->name, "truncated");
            failures.push_back(strCat(target.model->name, " (", provider.name,
                                      "): answer truncated, reprocessed on ", larger->name));
            reprocessing = true;
            // `target` refers into `targets`: nothing may use it after this.
            targets = {routing::Target{larger, config.findProvider(larger->provider)}};
            index = 0;
            break;
          }
          if (rule.action == "error") {
            ctx.stats.onTruncation(target.model->name, "error");
            api::ApiError error = api::ApiError::upstream(
                502, "upstream_truncated",
                strCat("The answer of model `", target.model->name,
                       "` was cut at its output limit (finish_reason: ", summary.finishReason(),
                       "); truncation.action is `error`."));
            co_await ctx.writer.sendError(error);
            co_return;
          }
          ctx.stats.onTruncation(target.model->name, "pass");
          ctx.record.truncated = true;
          ctx.writer.addHeader("x-llmgate-truncated", "true");
        }
        // What printf("%.8f") writes (both round exactly), without printf.
        char cost[64];
        const auto [end, ec] = std::to_chars(cost, cost + sizeof cost, ctx.record.cost_usd,
                                             std::chars_format::fixed, 8);
        ctx.writer.addHeader("x-llmgate-cost-usd",
                             std::string(cost, ec == std::errc() ? end : cost));
        // Only complete answers are stored: not truncated, not errors (R41).
        // L1 gets it before the client does (a repeat sent right after this
        // answer is a hit); the body is sent from the stored entry, not copied.
        std::shared_ptr<const cache::CachedResponse> stored;
        if (plan.store && !truncated && ctx.cache != nullptr && !result.body.empty() &&
            summary.storable()) {
          stored = std::make_shared<const cache::CachedResponse>(cache::cachedResponseOf(
              std::move(result.body), summary, target.model->name, provider.name));
          ctx.cache->storeLocal(*cache_key, stored);
        }
        const std::string_view answer_body =
            stored ? std::string_view(stored->body) : std::string_view(result.body);
        co_await ctx.writer.sendView(200, answer_body, "application/json");
        if (stored) {
          if (leader) leader->complete(stored);
          co_await ctx.cache->storeShared(*cache_key, stored);
          ctx.stats.setCacheBytes("l1", static_cast<double>(ctx.cache->l1ResidentBytes()));
        }
        co_return;
      }

      // The attempt failed and nothing reached the client.
      const Verdict& verdict = result.verdict;
      ctx.stats.onUpstreamAttempt(target.model->name, provider.name, verdict.outcome);
      if (verdict.counts_for_ejection &&
          target_health.recordFailure(config.failover, time::steadyNow())) {
        ctx.stats.onEjection(target.model->name, provider.name);
      }
      if (verdict.quota) provider_health.disableForQuota(time::steadyNow());
      failures.push_back(strCat(target.model->name, " (", provider.name, "): ", result.error.code));
      last_error = result.error;
      if (verdict.next == Next::kRespond) {
        co_await ctx.writer.sendError(result.error);
        co_return;
      }

      // Decide: retry here (after a wait), or move to the next target.
      const time::SteadyTime after = time::steadyNow();
      std::optional<config::Duration> wait;
      if (verdict.next == Next::kRetrySame) {
        if (result.hints.retry_after && *result.hints.retry_after > policy.max_delay) {
          // The provider asks for longer than we would wait: cool it down and
          // go elsewhere now (R7).
          provider_health.coolDown(after + *result.hints.retry_after);
          earliest_return = std::min(earliest_return.value_or(after + *result.hints.retry_after),
                                     after + *result.hints.retry_after);
        } else if (attempts_here < policy.max_attempts) {
          wait = result.hints.retry_after.value_or(retry::fullJitterBackoff(
              attempts_here - 1, policy.base_delay, policy.max_delay, ctx.rng));
        }
      }
      const bool more_targets = index + 1 < targets.size();
      if (!wait && verdict.next == Next::kFailover && !more_targets &&
          attempts_here < policy.max_attempts &&
          verdict.outcome == telemetry::AttemptOutcome::kConnectError && !verdict.quota &&
          result.error.code == "upstream_unavailable") {
        // Nowhere else to go: a refused connection may be a restart; back off and retry.
        wait = retry::fullJitterBackoff(attempts_here - 1, policy.base_delay, policy.max_delay,
                                        ctx.rng);
      }
      if (wait && after + *wait >= deadline) wait.reset();  // it could not finish in time
      if (attempts >= kMaxAttemptsPerRequest || (!wait && !more_targets)) {
        index = targets.size();  // nothing more to try
        break;
      }

      // A retry on the same provider needs a token of its retry budget
      // (held through the backoff, as Envoy counts it). Over budget, the
      // request fails over when there is another target, else fails fast: a
      // failing provider never gets more than its share of retries (R20),
      // and a healthy one still serves.
      if (wait) {
        retry::RetryBudget::RetryToken token =
            provider_health.budget().tryRetry(policy.budget_percent);
        if (token) {
          ctx.stats.onRetry(provider.name, verdict.reason);
          // Cut short by the drain deadline: the next attempt then fails at
          // once with server_shutting_down.
          const config::Duration backoff = *wait;
          co_await ctx.pools.backoff(backoff);
          continue;  // same target
        }
        ctx.stats.onRetryBudgetExhausted(provider.name);
        failures.push_back(strCat(provider.name, ": retry budget exhausted"));
        if (!more_targets) {
          index = targets.size();
          break;
        }
      }
      ctx.stats.onFailover(target.model->name, targets[index + 1].model->name, verdict.reason);
      next_target = true;
      ++index;
    }
    if (attempts >= kMaxAttemptsPerRequest) break;
  }

  // Nothing served the request.
  const time::SteadyTime now = time::steadyNow();
  api::ApiError error;
  if (!last_error) {
    // Every target was skipped. Rate-limited ones make it a 429 the client
    // can wait out; ejected ones a 503 (R7, R22).
    const std::string first = failures.empty() ? std::string() : failures[0];
    error = skipped_for_rate_limit
                ? api::ApiError::upstream(
                      429, "rate_limited",
                      strCat("Every target of `", decision->name,
                             "` is rate limited by its provider right now: ", first))
                : api::ApiError::upstream(
                      503, "no_healthy_upstream",
                      strCat("No target of `", decision->name, "` can serve now: ", first));
    if (skipped_for_rate_limit) error.type = "rate_limit_error";
    for (std::size_t i = 1; i < failures.size(); ++i) strAppend(error.message, "; ", failures[i]);
    error.message += ".";
    if (earliest_return) error.retry_after = retryAfterSeconds(*earliest_return, now);
  } else {
    error = *last_error;
    if (failures.size() > 1) {
      strAppend(error.message, " Tried: ", failures[0]);
      for (std::size_t i = 1; i < failures.size(); ++i) strAppend(error.message, "; ", failures[i]);
      error.message += ".";
    }
    if (error.code == "rate_limited" && !error.retry_after && earliest_return) {
      error.retry_after = retryAfterSeconds(*earliest_return, now);
    }
  }
  co_await ctx.writer.sendError(error);
}

}  // namespace llmgate::proxy::handlers

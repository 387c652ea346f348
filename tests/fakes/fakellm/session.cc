#include "tests/fakes/fakellm/session.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <memory>

#include "common/text/str_cat.h"
#include "tests/fakes/fakellm/chat_request.h"
#include "tests/fakes/fakellm/completion.h"
#include "tests/fakes/fakellm/embeddings.h"
#include "tests/fakes/fakellm/errors.h"

namespace llmgate::fakellm {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kBodyLimit = 16u << 20;
constexpr uint32_t kHeaderLimit = 64u << 10;
constexpr size_t kJsonArenaBytes = 16u << 10;
constexpr int64_t kDefaultKeepaliveIntervalMs = 100;
constexpr std::string_view kKeepAliveComment = ": keep-alive\n\n";

constexpr std::string_view kLastChunk = "0\r\n\r\n";

// HTTP/1.1 chunked framing of one chunk, the bytes http::make_chunk writes.
void appendHttpChunk(std::string& out, std::string_view data) {
  char size_line[24];
  const int n = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", data.size());
  out.append(size_line, static_cast<size_t>(n));
  out.append(data);
  out.append("\r\n");
}

int64_t steadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr std::string_view kBehaviourHeader = "x-fakellm-behaviour";

// Overlays the behaviour written in `json_text` onto `b`; for a bad one, the
// 400 to answer instead, naming `source`.
std::optional<ErrorSpec> overlayText(Behaviour& b, std::string_view json_text, Dialect dialect,
                                     std::string_view source) {
  auto parsed = parseBehaviourText(json_text);
  if (parsed.ok()) {
    b.overlay(*parsed);
    return std::nullopt;
  }
  const auto message = parsed.status().message();  // Debian's Abseil: its own string_view
  return invalidRequestError(
      dialect, strCat("fakellm: ", source, ": ", std::string_view(message.data(), message.size())));
}

bool isHttpParseError(const boost::system::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// The key a request presents: `x-api-key` for Anthropic, else the Bearer token.
std::string_view presentedKey(const http::request<http::string_body>& req, Dialect dialect) {
  if (dialect == Dialect::kAnthropic) {
    if (auto it = req.find("x-api-key"); it != req.end()) return it->value();
  }
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return {};
  std::string_view value = it->value();
  if (value.size() >= 7 && beast::iequals(value.substr(0, 7), "bearer ")) {
    value.remove_prefix(7);
  }
  return value;
}

// Where a stream stops after its `n`-th content event: the index of the next
// event (or of the first content event when n is 0); npos if it has fewer.
size_t indexAfterContent(const StreamScript& s, int64_t n) {
  int64_t seen = 0;
  for (size_t i = 0; i < s.events.size(); ++i) {
    if (!s.events[i].content) continue;
    if (seen == n) return i;
    if (++seen == n) return i + 1;
  }
  return std::string_view::npos;
}

int64_t contentEvents(const StreamScript& s) {
  int64_t n = 0;
  for (const auto& e : s.events) n += e.content ? 1 : 0;
  return n;
}

// Counts one request in flight for its lifetime.
class InFlight {
 public:
  explicit InFlight(std::atomic<int64_t>& counter)
      : counter_(counter), count_(counter.fetch_add(1, std::memory_order_relaxed) + 1) {}
  ~InFlight() { counter_.fetch_sub(1, std::memory_order_relaxed); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

  // In flight when this one started, itself included.
  int64_t count() const { return count_; }

 private:
  std::atomic<int64_t>& counter_;
  const int64_t count_;
};

class Session {
 public:
  Session(tcp::socket socket, WorkerContext& worker)
      : socket_(std::move(socket)), worker_(worker), shared_(worker.shared) {}

  asio::awaitable<void> run();

 private:
  using Request = http::request<http::string_body>;

  asio::awaitable<bool> dispatch(Request& req);
  asio::awaitable<bool> handleChat(Request& req, Dialect dialect);
  asio::awaitable<bool> answerChat(const ChatRequest& chat, Dialect dialect, const Behaviour& b);
  asio::awaitable<bool> sendCompletion(const Completion& c, const Behaviour& b, int64_t latency);
  asio::awaitable<bool> streamCompletion(const Completion& c, const Behaviour& b);
  asio::awaitable<bool> handleEmbeddings(Request& req);
  asio::awaitable<bool> handleControl(Request& req, RouteKind kind);

  // Each returns whether the connection stays open.
  // `request_id` empty: a fresh one.
  asio::awaitable<bool> send(unsigned status, std::string_view content_type, std::string&& body,
                             Dialect dialect, const Behaviour* b, std::string_view request_id = {});
  asio::awaitable<bool> sendError(Dialect dialect, const ErrorSpec& e,
                                  const Behaviour* b = nullptr);
  asio::awaitable<bool> sendControl(unsigned status, std::string_view body);
  http::response<http::string_body> response(unsigned status, std::string_view content_type,
                                             std::string&& body) const;
  asio::awaitable<bool> write(http::response<http::string_body>& res);
  asio::awaitable<bool> writeStreamHead(Dialect dialect, const Behaviour& b,
                                        std::string_view content_type);
  asio::awaitable<bool> writeChunk(std::string_view data);
  asio::awaitable<bool> writeLastChunk();
  asio::awaitable<bool> writeRaw(std::string_view data);
  // Writes and empties `pending` (framed chunks); true when nothing is pending.
  asio::awaitable<bool> flush(std::string& pending);
  asio::awaitable<bool> writeKeepalives(const Behaviour& b, std::string_view piece);

  template <class Body>
  void addProviderHeaders(http::response<Body>& res, Dialect dialect, const Behaviour* b,
                          std::string_view request_id = {});
  asio::awaitable<void> sleepFor(std::chrono::microseconds d);
  asio::awaitable<void> sleepMs(int64_t ms) { return sleepFor(std::chrono::milliseconds(ms)); }
  asio::awaitable<void> waitForClientToLeave();
  void resetConnection();
  void closeConnection();

  tcp::socket socket_;
  WorkerContext& worker_;
  SharedState& shared_;
  beast::flat_buffer buffer_;
  // Backs the parsed JSON of the one request in flight; bigger bodies spill to the heap.
  unsigned char* jsonArena() {
    if (!json_arena_) json_arena_ = std::make_unique<unsigned char[]>(kJsonArenaBytes);
    return json_arena_.get();
  }
  std::unique_ptr<unsigned char[]> json_arena_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
};

asio::awaitable<void> Session::run() {
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    auto [ec, n] = co_await http::async_read_header(socket_, buffer_, parser, kTuple);
    if (!ec && !parser.is_done()) {
      // curl sends `Expect: 100-continue` for bodies over 1 KiB and would wait a second.
      if (auto it = parser.get().find(http::field::expect);
          it != parser.get().end() && beast::iequals(it->value(), "100-continue")) {
        if (!co_await writeRaw("HTTP/1.1 100 Continue\r\n\r\n")) break;
      }
      std::tie(ec, n) = co_await http::async_read(socket_, buffer_, parser, kTuple);
    }
    if (ec) {
      keep_alive_ = false;
      if (ec == http::error::body_limit) {
        ErrorSpec e = invalidRequestError(Dialect::kOpenAi, "Request body too large.");
        e.status = 413;
        co_await sendError(Dialect::kOpenAi, e);
      } else if (ec == http::error::header_limit) {
        std::string body = "Request Header Fields Too Large\n";
        co_await send(431, "text/plain", std::move(body), Dialect::kOpenAi, nullptr);
      } else if (isHttpParseError(ec) && ec != http::error::end_of_stream &&
                 ec != http::error::partial_message) {
        std::string body = "Bad Request\n";
        co_await send(400, "text/plain", std::move(body), Dialect::kOpenAi, nullptr);
      }
      break;
    }
    Request& req = parser.get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    if (!co_await dispatch(req) || !keep_alive_) break;
  }
  closeConnection();
}

asio::awaitable<bool> Session::dispatch(Request& req) {
  const Route route = matchRoute(req.target());
  if (route.isControl()) co_return co_await handleControl(req, route.kind);
  shared_.stats.recordRequest(req.method_string(), req.target(), req.base(), req.body());

  // Arguments of a co_await are named locals: GCC 12 may destroy temporaries of
  // a co_await full-expression twice.
  const bool wants_post = route.kind == RouteKind::kChat || route.kind == RouteKind::kEmbeddings;
  const std::string_view presented = presentedKey(req, route.dialect);
  const std::string& key = shared_.options.require_key;
  std::optional<ErrorSpec> error;
  if (route.kind == RouteKind::kNotFound) {
    error = notFoundError(route.dialect, strCat(std::string_view(req.method_string()), " ",
                                                std::string_view(req.target())));
  } else if (req.method() != (wants_post ? http::verb::post : http::verb::get)) {
    error = invalidRequestError(route.dialect, "Method Not Allowed");
    error->status = 405;
  } else if (!key.empty() && presented != key) {
    error = authError(route.dialect, presented);
  }
  if (error) co_return co_await sendError(route.dialect, *error);

  switch (route.kind) {
    case RouteKind::kChat:
      co_return co_await handleChat(req, route.dialect);
    case RouteKind::kEmbeddings:
      co_return co_await handleEmbeddings(req);
    default:
      break;
  }
  std::string body = route.kind == RouteKind::kModels ? modelsBody(route.dialect, unixNow())
                                                      : std::string(deepSeekBalanceBody());
  co_return co_await send(200, "application/json", std::move(body), route.dialect, nullptr);
}

asio::awaitable<bool> Session::handleChat(Request& req, Dialect dialect) {
  const Options& opt = shared_.options;
  if (opt.strict && dialect == Dialect::kAnthropic && req.find("anthropic-version") == req.end()) {
    const ErrorSpec e = invalidRequestError(dialect, "anthropic-version: header is required");
    co_return co_await sendError(dialect, e);
  }

  // Counted from here until the answer is written, like DeepSeek's cap (§1.7).
  const InFlight in_flight(shared_.chat_in_flight);

  json::monotonic_resource arena(jsonArena(), kJsonArenaBytes);
  boost::system::error_code ec;
  const json::value body = json::parse(req.body(), ec, &arena);
  if (ec) {
    const ErrorSpec e = invalidJsonError(dialect);
    co_return co_await sendError(dialect, e);
  }
  const ChatRequest chat = readChatRequest(body, dialect, opt.strict);
  if (opt.max_concurrency > 0 && in_flight.count() > opt.max_concurrency) {
    const ErrorSpec e = scriptedError(dialect, 429, "", chat.model);
    co_return co_await sendError(dialect, e);
  }

  // Lowest precedence first; each layer overrides the fields it sets.
  Behaviour b = shared_.defaults;
  if (auto scripted = shared_.script.pop()) b.overlay(*scripted);
  if (auto magic = magicModelBehaviour(chat.model)) b.overlay(*magic);
  if (auto directive = findDirective(chat.last_user_text)) {
    if (auto bad = overlayText(b, *directive, dialect, "FAKELLM directive")) {
      co_return co_await sendError(dialect, *bad);
    }
  }
  if (auto it = req.find(kBehaviourHeader); it != req.end()) {
    if (auto bad = overlayText(b, it->value(), dialect, kBehaviourHeader)) {
      co_return co_await sendError(dialect, *bad);
    }
  }
  co_return co_await answerChat(chat, dialect, b);
}

asio::awaitable<bool> Session::answerChat(const ChatRequest& chat, Dialect dialect,
                                          const Behaviour& b) {
  const Options& opt = shared_.options;
  co_await sleepMs(shared_.cold_start.delayFor(steadyNowMs()));
  if (b.reset == ResetMode::kBeforeHeaders) {
    resetConnection();
    co_return false;
  }
  if (b.hang.value_or(false)) {
    co_await waitForClientToLeave();
    co_return false;
  }
  const int64_t latency =
      sampleLatency(opt.latency_dist, b.latency_ms.value_or(0), opt.latency_jitter_ms, worker_.rng);
  if (b.malformed == Malformed::kHtml) {
    co_await sleepMs(latency);
    std::string page(badGatewayHtml());
    co_return co_await send(502, "text/html", std::move(page), dialect, &b);
  }
  if (b.status && *b.status != 200) {
    co_await sleepMs(latency);
    ErrorSpec e = scriptedError(dialect, *b.status, b.error_type.value_or(""), chat.model);
    if (b.error_message) e.message = *b.error_message;
    co_return co_await sendError(dialect, e, &b);
  }
  if (chat.invalid) co_return co_await sendError(dialect, *chat.invalid, &b);
  if (b.context_window && chat.prompt_tokens + chat.max_tokens.value_or(0) > *b.context_window) {
    const ErrorSpec e = contextLengthError(dialect, *b.context_window, chat.prompt_tokens,
                                           chat.max_tokens.value_or(0));
    co_return co_await sendError(dialect, e, &b);
  }

  int64_t cached = 0;
  if (dialect == Dialect::kDeepSeek) {
    if (b.cache_hit_tokens) {
      cached = *b.cache_hit_tokens;
    } else if (opt.prompt_cache) {
      cached = shared_.prompt_cache.lookupAndRemember(chat.prefixes);
    }
  }
  CompletionInputs inputs;
  inputs.id = newCompletionId(dialect, worker_.rng);
  inputs.created = unixNow();
  inputs.default_answer_words = opt.answer_words;
  inputs.cached_tokens = cached;
  const Completion c = makeCompletion(chat, dialect, b, std::move(inputs), worker_.rng);
  if (chat.stream) co_return co_await streamCompletion(c, b);
  co_return co_await sendCompletion(c, b, latency);
}

asio::awaitable<bool> Session::sendCompletion(const Completion& c, const Behaviour& b,
                                              int64_t latency) {
  std::string body = completionBody(c);
  if (b.malformed == Malformed::kTruncatedJson) body.resize(body.size() / 2);
  if (b.empty_body.value_or(false)) body.clear();
  const std::string_view content_type =
      b.malformed == Malformed::kWrongContentType ? "text/html; charset=utf-8" : "application/json";

  if (b.keepalives.value_or(0) > 0 || b.keepalive_forever.value_or(false)) {
    // DeepSeek while a request is queued: 200 at once, blank lines, then the JSON.
    if (!co_await writeStreamHead(c.dialect, b, content_type)) co_return false;
    if (!co_await writeKeepalives(b, "\n")) co_return false;
    co_await sleepMs(latency);
    if (!body.empty() && !co_await writeChunk(body)) co_return false;
    co_return co_await writeLastChunk();
  }

  co_await sleepMs(latency);
  const bool cut = b.reset == ResetMode::kMidBody || b.cut_after.has_value();
  if (b.reset == ResetMode::kAfterHeaders || cut) {
    // Promise the whole body, then deliver none or half of it.
    http::response<http::empty_body> res{http::status::ok, version_};
    res.set(http::field::content_type, content_type);
    addProviderHeaders(res, c.dialect, &b);
    res.content_length(body.size());
    http::response_serializer<http::empty_body> sr{res};
    auto [ec, n] = co_await http::async_write_header(socket_, sr, kTuple);
    if (!ec && cut) co_await writeRaw(std::string_view(body).substr(0, body.size() / 2));
    closeConnection();
    co_return false;
  }
  co_return co_await send(200, content_type, std::move(body), c.dialect, &b);
}

asio::awaitable<bool> Session::streamCompletion(const Completion& c, const Behaviour& b) {
  const Options& opt = shared_.options;
  const StreamScript script = completionStream(c);
  const std::string_view content_type =
      b.malformed == Malformed::kWrongContentType ? "application/json" : "text/event-stream";
  if (!co_await writeStreamHead(c.dialect, b, content_type)) co_return false;
  if (b.reset == ResetMode::kAfterHeaders) {
    closeConnection();
    co_return false;
  }
  if (!co_await writeKeepalives(b, kKeepAliveComment)) co_return false;
  if (b.empty_body.value_or(false)) co_return co_await writeLastChunk();

  constexpr size_t kNever = std::string_view::npos;
  const size_t cut_at = b.cut_after ? indexAfterContent(script, *b.cut_after) : kNever;
  const size_t error_at = b.stream_error ? indexAfterContent(script, *b.stream_error) : kNever;
  const size_t torn_at = b.reset == ResetMode::kMidBody
                             ? indexAfterContent(script, contentEvents(script) / 2)
                             : kNever;
  const size_t truncated_at =
      b.malformed == Malformed::kTruncatedJson ? indexAfterContent(script, 1) : kNever;
  const double tokens_per_sec = b.tokens_per_sec.value_or(0);
  const auto gap = std::chrono::microseconds(
      tokens_per_sec > 0 ? static_cast<int64_t>(std::min(1e6 / tokens_per_sec, kMaxLatencyMs * 1e3))
                         : 0);

  co_await sleepMs(
      sampleLatency(opt.latency_dist, b.ttft_ms.value_or(0), opt.latency_jitter_ms, worker_.rng));
  // Events produced back to back go out in one write, each still its own HTTP
  // chunk; a pause (tokens_per_sec) first flushes what is pending.
  std::string pending;
  bool content_sent = false;
  for (size_t i = 0; i < script.events.size(); ++i) {
    const std::string_view event = script.event(i);
    if (i == cut_at || i == error_at || i == torn_at || i == truncated_at) {
      if (!co_await flush(pending)) co_return false;
    }
    if (i == cut_at) {
      closeConnection();  // no finish chunk, no [DONE], no last chunk
      co_return false;
    }
    if (i == error_at) {
      std::string error_event;
      appendStreamErrorEvent(c.dialect, error_event);
      appendHttpChunk(pending, error_event);
      pending.append(kLastChunk);
      co_return co_await flush(pending) && keep_alive_;
    }
    if (i == torn_at) {
      // A chunk header for the whole event, then half of it, then FIN.
      appendHttpChunk(pending, event);
      pending.resize(pending.size() - 2 - (event.size() - event.size() / 2));
      co_await flush(pending);
      closeConnection();
      co_return false;
    }
    if (i == truncated_at) {
      std::string cut(event.substr(0, event.size() / 2));
      cut.append("\n\n");
      appendHttpChunk(pending, cut);
      pending.append(kLastChunk);
      co_return co_await flush(pending) && keep_alive_;
    }
    if (script.events[i].content) {
      if (content_sent && gap.count() > 0) {
        if (!co_await flush(pending)) co_return false;
        co_await sleepFor(gap);
      }
      content_sent = true;
    }
    appendHttpChunk(pending, event);
  }
  pending.append(kLastChunk);
  co_return co_await flush(pending) && keep_alive_;
}

asio::awaitable<bool> Session::handleEmbeddings(Request& req) {
  json::monotonic_resource arena(jsonArena(), kJsonArenaBytes);
  boost::system::error_code ec;
  const json::value body = json::parse(req.body(), ec, &arena);
  if (ec) {
    const ErrorSpec e = invalidJsonError(Dialect::kOpenAi);
    co_return co_await sendError(Dialect::kOpenAi, e);
  }
  std::string_view model;
  if (const auto* obj = body.if_object()) {
    if (const auto* m = obj->if_contains("model"); m != nullptr && m->is_string()) {
      model = m->get_string();
    }
  }
  Behaviour b = shared_.defaults;
  if (auto magic = magicModelBehaviour(model)) b.overlay(*magic);
  if (auto it = req.find(kBehaviourHeader); it != req.end()) {
    if (auto bad = overlayText(b, it->value(), Dialect::kOpenAi, kBehaviourHeader)) {
      co_return co_await sendError(Dialect::kOpenAi, *bad);
    }
  }
  const Options& opt = shared_.options;
  co_await sleepMs(shared_.cold_start.delayFor(steadyNowMs()));
  if (b.reset == ResetMode::kBeforeHeaders) {
    resetConnection();
    co_return false;
  }
  if (b.hang.value_or(false)) {
    co_await waitForClientToLeave();
    co_return false;
  }
  co_await sleepMs(sampleLatency(opt.latency_dist, b.latency_ms.value_or(0), opt.latency_jitter_ms,
                                 worker_.rng));
  if (b.status && *b.status != 200) {
    ErrorSpec e = scriptedError(Dialect::kOpenAi, *b.status, b.error_type.value_or(""), model);
    if (b.error_message) e.message = *b.error_message;
    co_return co_await sendError(Dialect::kOpenAi, e, &b);
  }
  EmbeddingsResult result = embeddingsResponse(body, opt.embedding_dims);
  if (result.error) co_return co_await sendError(Dialect::kOpenAi, *result.error, &b);
  co_return co_await send(200, "application/json", std::move(result.body), Dialect::kOpenAi, &b);
}

asio::awaitable<bool> Session::handleControl(Request& req, RouteKind kind) {
  const auto method = req.method();
  switch (kind) {
    case RouteKind::kControlScript: {
      if (method == http::verb::delete_) {
        shared_.script.clear();
        co_return co_await sendControl(200, R"({"queued":0})");
      }
      if (method == http::verb::get) {
        const std::string queued = strCat(R"({"queued":)", shared_.script.size(), "}");
        co_return co_await sendControl(200, queued);
      }
      if (method != http::verb::post) break;
      boost::system::error_code ec;
      const json::value body = json::parse(req.body(), ec);
      const json::value* list = nullptr;
      if (!ec) {
        if (body.is_array()) {
          list = &body;
        } else if (const auto* obj = body.if_object()) {
          list = obj->if_contains("behaviours");
          if (list == nullptr) list = obj->if_contains("behaviors");
        }
      }
      if (list == nullptr || !list->is_array()) {
        co_return co_await sendControl(
            400, R"({"error":{"message":"expected {\"behaviours\":[{...},...]}"}})");
      }
      std::vector<Behaviour> parsed;
      for (const auto& item : list->get_array()) {
        auto b = parseBehaviour(item);
        if (!b.ok()) {
          std::string msg = R"({"error":{"message":)";
          const auto text = b.status().message();
          msg.append(json::serialize(json::value(std::string(text.data(), text.size()))));
          msg.append("}}");
          co_return co_await sendControl(400, msg);
        }
        parsed.push_back(*std::move(b));
      }
      const std::string queued =
          strCat(R"({"queued":)", shared_.script.push(std::move(parsed)), "}");
      co_return co_await sendControl(200, queued);
    }
    case RouteKind::kControlStats: {
      if (method != http::verb::get) break;
      const std::string stats = shared_.stats.toJson();
      co_return co_await sendControl(200, stats);
    }
    case RouteKind::kControlReset:
      if (method != http::verb::post) break;
      shared_.stats.reset();
      shared_.prompt_cache.clear();
      co_return co_await sendControl(200, R"({"ok":true})");
    case RouteKind::kControlHealth:
      co_return co_await sendControl(200, R"({"ok":true})");
    default:
      break;
  }
  co_return co_await sendControl(405, R"({"error":{"message":"method not allowed"}})");
}

template <class Body>
void Session::addProviderHeaders(http::response<Body>& res, Dialect dialect, const Behaviour* b,
                                 std::string_view request_id) {
  if (request_id.empty()) {
    res.set(requestIdHeader(dialect), newRequestId(dialect, worker_.rng));
  } else {
    res.set(requestIdHeader(dialect), request_id);
  }
  if (b == nullptr) return;
  for (const auto& [name, value] : b->headers) res.set(name, value);
  if (b->retry_after)
    res.set(http::field::retry_after, retryAfterValue(*b->retry_after, unixNow()));
}

http::response<http::string_body> Session::response(unsigned status, std::string_view content_type,
                                                    std::string&& body) const {
  http::response<http::string_body> res;
  res.version(version_);
  res.result(status);
  if (http::obsolete_reason(res.result()) == "<unknown-status>") {
    res.reason(status == 529 ? "Overloaded" : "Unknown");
  }
  res.set(http::field::content_type, content_type);
  res.keep_alive(keep_alive_);
  res.body() = std::move(body);
  return res;
}

asio::awaitable<bool> Session::write(http::response<http::string_body>& res) {
  res.prepare_payload();
  auto [ec, n] = co_await http::async_write(socket_, res, kTuple);
  co_return !ec && keep_alive_;
}

asio::awaitable<bool> Session::send(unsigned status, std::string_view content_type,
                                    std::string&& body, Dialect dialect, const Behaviour* b,
                                    std::string_view request_id) {
  auto res = response(status, content_type, std::move(body));
  addProviderHeaders(res, dialect, b, request_id);
  co_return co_await write(res);
}

asio::awaitable<bool> Session::sendError(Dialect dialect, const ErrorSpec& e, const Behaviour* b) {
  const std::string request_id = newRequestId(dialect, worker_.rng);
  std::string body;
  if (b != nullptr && b->error_body) {
    body = *b->error_body;
  } else {
    body = renderError(dialect, e, request_id);
  }
  co_return co_await send(static_cast<unsigned>(e.status), "application/json", std::move(body),
                          dialect, b, request_id);
}

asio::awaitable<bool> Session::sendControl(unsigned status, std::string_view body) {
  auto res = response(status, "application/json", std::string(body));
  co_return co_await write(res);
}

asio::awaitable<bool> Session::writeStreamHead(Dialect dialect, const Behaviour& b,
                                               std::string_view content_type) {
  http::response<http::empty_body> res{http::status::ok, version_};
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-cache");
  addProviderHeaders(res, dialect, &b);
  res.keep_alive(keep_alive_);
  res.chunked(true);
  http::response_serializer<http::empty_body> sr{res};
  auto [ec, n] = co_await http::async_write_header(socket_, sr, kTuple);
  co_return !ec;
}

asio::awaitable<bool> Session::writeKeepalives(const Behaviour& b, std::string_view piece) {
  const int64_t count = b.keepalives.value_or(0);
  const bool forever = b.keepalive_forever.value_or(false);
  const int64_t interval = b.keepalive_interval_ms.value_or(kDefaultKeepaliveIntervalMs);
  for (int64_t i = 0; forever || i < count; ++i) {
    if (!co_await writeChunk(piece)) co_return false;
    co_await sleepMs(interval);
  }
  co_return true;
}

asio::awaitable<bool> Session::writeChunk(std::string_view data) {
  std::string framed;
  appendHttpChunk(framed, data);
  co_return co_await writeRaw(framed);
}

asio::awaitable<bool> Session::writeLastChunk() {
  co_return co_await writeRaw(kLastChunk) && keep_alive_;
}

asio::awaitable<bool> Session::flush(std::string& pending) {
  if (pending.empty()) co_return true;
  const bool ok = co_await writeRaw(pending);
  pending.clear();
  co_return ok;
}

asio::awaitable<bool> Session::writeRaw(std::string_view data) {
  auto [ec, n] =
      co_await asio::async_write(socket_, asio::const_buffer(data.data(), data.size()), kTuple);
  co_return !ec;
}

asio::awaitable<void> Session::sleepFor(std::chrono::microseconds d) {
  if (d.count() <= 0) co_return;
  asio::steady_timer timer(socket_.get_executor(), d);
  co_await timer.async_wait(kTuple);
}

asio::awaitable<void> Session::waitForClientToLeave() {
  std::array<char, 4096> scratch;
  for (;;) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(scratch), kTuple);
    if (ec) co_return;
  }
}

void Session::resetConnection() {
  boost::system::error_code ec;
  socket_.set_option(asio::socket_base::linger(true, 0), ec);
  socket_.close(ec);
}

void Session::closeConnection() {
  if (!socket_.is_open()) return;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  socket_.close(ec);
}

}  // namespace

asio::awaitable<void> runSession(tcp::socket socket, WorkerContext& worker) {
  Session session(std::move(socket), worker);
  co_await session.run();
}

}  // namespace llmgate::fakellm

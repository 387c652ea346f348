#include "proxy/runtime/response_writer.h"

#include <algorithm>
#include <array>

#include "boost/beast/http/chunk_encode.hpp"
#include "common/net/http_io.h"

namespace llmgate::proxy::runtime {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

}  // namespace

ResponseHead ResponseWriter::head(unsigned status) {
  if (close_when_ != nullptr && close_when_->load(std::memory_order_relaxed)) keep_alive_ = false;
  ResponseHead head(status, version_);
  head.append("Server", "llmgate");
  head.append("x-request-id", request_id_);
  // Provider and model are named on every response; "none" until a request
  // was routed (validation errors, /v1/models).
  const auto added_after = [&](std::size_t from, std::string_view name) {
    return std::any_of(extra_.begin() + static_cast<std::ptrdiff_t>(from), extra_.end(),
                       [&](const auto& field) { return field.first == name; });
  };
  if (!added_after(0, "x-llmgate-provider")) head.append("x-llmgate-provider", "none");
  if (!added_after(0, "x-llmgate-model")) head.append("x-llmgate-model", "none");
  // Extra names are literals spelled one way and none of the writer's own:
  // a name added again (each attempt names its provider) keeps only its
  // last value, at the place of that last one (as Beast's set() would).
  for (std::size_t i = 0; i < extra_.size(); ++i) {
    if (!added_after(i + 1, extra_[i].first)) head.append(extra_[i].first, extra_[i].second);
  }
  return head;
}

asio::awaitable<bool> ResponseWriter::send(unsigned status, std::string body,
                                           std::string_view content_type) {
  co_return co_await sendView(status, body, content_type);
}

asio::awaitable<bool> ResponseWriter::sendView(unsigned status, std::string_view body,
                                               std::string_view content_type) {
  // Head and body in one gather write: one sendmsg, no Beast serializer.
  ResponseHead head = this->head(status);
  const std::string attempts = std::to_string(attempts_);
  head.append("x-llmgate-attempts", attempts);
  head.keepAlive(keep_alive_);
  head.set("Content-Type", content_type);
  const std::string length = std::to_string(body.size());
  head.append("Content-Length", length);
  const std::string rendered = head.render();
  started_ = true;
  status_ = status;
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(rendered), asio::buffer(body)};
  boost::system::error_code ec;
  std::size_t sent = 0;
  if (!net::sendAllNow(stream_, buffers, sent, ec)) {
    ec = co_await net::writeRest(stream_, buffers, sent, write_timeout_);
  }
  ok_ = ok_ && !ec;
  co_return !ec;
}

asio::awaitable<bool> ResponseWriter::sendError(const api::ApiError& error) {
  if (error.close_connection) keep_alive_ = false;
  error_code_ = error.code;
  if (error.retry_after) addHeader("retry-after", *error.retry_after);
  std::string body = error.body();
  co_return co_await send(static_cast<unsigned>(error.status), std::move(body), "application/json");
}

asio::awaitable<bool> ResponseWriter::beginStream() {
  ResponseHead head = this->head(200);
  const std::string attempts = std::to_string(attempts_);
  head.append("x-llmgate-attempts", attempts);
  head.keepAlive(keep_alive_);
  head.set("Content-Type", "text/event-stream; charset=utf-8");
  head.set("Cache-Control", "no-cache");
  head.set("Transfer-Encoding", "chunked");
  const std::string rendered = head.render();
  started_ = true;
  status_ = 200;
  const auto buffer = asio::buffer(rendered);
  const boost::system::error_code ec = co_await net::writeAll(stream_, buffer, write_timeout_);
  ok_ = ok_ && !ec;
  co_return !ec;
}

asio::awaitable<bool> ResponseWriter::sendChunk(std::string_view data) {
  if (data.empty()) co_return ok_;
  const auto chunk = http::make_chunk(asio::buffer(data.data(), data.size()));
  const boost::system::error_code ec = co_await net::writeAll(stream_, chunk, write_timeout_);
  ok_ = ok_ && !ec;
  co_return !ec;
}

asio::awaitable<bool> ResponseWriter::endStream() {
  const auto last = http::make_chunk_last();
  const boost::system::error_code ec = co_await net::writeAll(stream_, last, write_timeout_);
  ok_ = ok_ && !ec;
  co_return !ec;
}

}  // namespace llmgate::proxy::runtime

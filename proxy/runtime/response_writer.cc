#include "proxy/runtime/response_writer.h"

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/http/chunk_encode.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"

namespace llmgate::proxy::runtime {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

template <typename Message>
void ResponseWriter::decorate(Message& message) {
  if (close_when_ != nullptr && close_when_->load(std::memory_order_relaxed)) keep_alive_ = false;
  message.set(http::field::server, "llmgate");
  message.set("x-request-id", request_id_);
  // Provider and model are named on every response; "none" until a request
  // was routed (validation errors, /v1/models).
  message.set("x-llmgate-provider", "none");
  message.set("x-llmgate-model", "none");
  for (const auto& [name, value] : extra_) message.set(name, value);
  message.set("x-llmgate-attempts", std::to_string(attempts_));
  message.keep_alive(keep_alive_);
}

asio::awaitable<bool> ResponseWriter::send(unsigned status, std::string body,
                                           std::string_view content_type) {
  http::response<http::string_body> res{static_cast<http::status>(status), version_};
  decorate(res);
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  started_ = true;
  status_ = status;
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await http::async_write(stream_, res, kTuple);
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
  http::response<http::empty_body> res{http::status::ok, version_};
  decorate(res);
  res.set(http::field::content_type, "text/event-stream; charset=utf-8");
  res.set(http::field::cache_control, "no-cache");
  res.chunked(true);
  started_ = true;
  status_ = 200;
  http::response_serializer<http::empty_body> serializer{res};
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await http::async_write_header(stream_, serializer, kTuple);
  ok_ = ok_ && !ec;
  co_return !ec;
}

asio::awaitable<bool> ResponseWriter::sendChunk(std::string_view data) {
  if (data.empty()) co_return ok_;
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await asio::async_write(
      stream_, http::make_chunk(asio::buffer(data.data(), data.size())), kTuple);
  ok_ = ok_ && !ec;
  co_return !ec;
}

asio::awaitable<bool> ResponseWriter::endStream() {
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await asio::async_write(stream_, http::make_chunk_last(), kTuple);
  ok_ = ok_ && !ec;
  co_return !ec;
}

}  // namespace llmgate::proxy::runtime

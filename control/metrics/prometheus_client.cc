#include "control/metrics/prometheus_client.h"

#include <cmath>
#include <cstdlib>
#include <optional>

#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"
#include "boost/url/parse.hpp"
#include "boost/url/url.hpp"
#include "common/json/strict_parse.h"
#include "common/text/str_cat.h"

namespace llmgate::control::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace js = boost::json;

absl::StatusOr<PrometheusClient> PrometheusClient::create(const std::string& url,
                                                          std::chrono::milliseconds timeout) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return absl::InvalidArgumentError(strCat("metrics_source.url: not a URL: ", url));
  if (parsed->scheme() != "http") {
    return absl::InvalidArgumentError("metrics_source.url: only http:// is supported");
  }
  std::string host(parsed->host());
  if (host.empty()) return absl::InvalidArgumentError("metrics_source.url: no host");
  std::string port = parsed->has_port() ? std::string(parsed->port()) : std::string("80");
  std::string prefix(parsed->path());
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return PrometheusClient(std::move(host), std::move(port), std::move(prefix), timeout);
}

absl::StatusOr<std::string> PrometheusClient::get(const std::string& target) const {
  asio::io_context ioc{1};
  beast::tcp_stream stream(ioc);
  asio::ip::tcp::resolver resolver(ioc);
  boost::system::error_code failure;
  std::string stage = "resolve";
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, host_);
  request.set(http::field::user_agent, "llmgate-control");
  request.set(http::field::accept, "application/json");
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(16u << 20);

  stream.expires_after(timeout_);
  resolver.async_resolve(host_, port_, [&](boost::system::error_code ec, auto results) {
    if (ec) {
      failure = ec;
      return;
    }
    stage = "connect";
    stream.async_connect(results, [&](boost::system::error_code ec, const auto&) {
      if (ec) {
        failure = ec;
        return;
      }
      stage = "write";
      http::async_write(stream, request, [&](boost::system::error_code ec, std::size_t) {
        if (ec) {
          failure = ec;
          return;
        }
        stage = "read";
        http::async_read(stream, buffer, parser,
                         [&](boost::system::error_code ec, std::size_t) { failure = ec; });
      });
    });
  });
  // The resolver has no expiry of its own: bound the whole exchange.
  ioc.run_for(timeout_ + std::chrono::milliseconds(100));
  if (!ioc.stopped()) {
    return absl::DeadlineExceededError(
        strCat("prometheus ", host_, ":", port_, ": timed out at ", stage));
  }
  if (failure) {
    return absl::UnavailableError(
        strCat("prometheus ", host_, ":", port_, ": ", stage, ": ", failure.message()));
  }
  const auto& response = parser.get();
  if (response.result_int() != 200) {
    return absl::UnavailableError(strCat("prometheus ", host_, ":", port_, " answered ",
                                         response.result_int(), ": ",
                                         response.body().substr(0, 200)));
  }
  return response.body();
}

absl::StatusOr<std::vector<PromSample>> PrometheusClient::query(const std::string& promql) const {
  boost::urls::url target;
  target.set_path(strCat(prefix_, "/api/v1/query"));
  target.params().append({"query", promql});
  absl::StatusOr<std::string> body = get(std::string(target.encoded_target()));
  if (!body.ok()) return body.status();
  auto samples = parseQueryResponse(*body);
  if (!samples.ok()) {
    return absl::Status(samples.status().code(),
                        strCat(std::string(samples.status().message()), " (query: ", promql, ")"));
  }
  return samples;
}

absl::StatusOr<std::vector<PromSample>> PrometheusClient::parseQueryResponse(
    const std::string& body) {
  json::StrictParseResult parsed = json::parseStrict(body);
  if (!parsed.ok || !parsed.value.is_object()) {
    return absl::InvalidArgumentError(strCat("prometheus: not a JSON object: ", parsed.error));
  }
  const js::object& root = parsed.value.get_object();
  const js::value* status = root.if_contains("status");
  if (status == nullptr || !status->is_string() || status->get_string() != "success") {
    const js::value* error = root.if_contains("error");
    return absl::InvalidArgumentError(
        strCat("prometheus: query failed: ",
               error && error->is_string() ? std::string(error->get_string()) : "no error text"));
  }
  const js::value* data = root.if_contains("data");
  if (data == nullptr || !data->is_object()) {
    return absl::InvalidArgumentError("prometheus: answer without data");
  }
  const js::value* type = data->get_object().if_contains("resultType");
  const js::value* result = data->get_object().if_contains("result");
  if (type == nullptr || !type->is_string() || type->get_string() != "vector" ||
      result == nullptr || !result->is_array()) {
    return absl::InvalidArgumentError("prometheus: expected an instant vector");
  }
  std::vector<PromSample> out;
  for (const js::value& item : result->get_array()) {
    if (!item.is_object()) continue;
    const js::value* metric = item.get_object().if_contains("metric");
    const js::value* value = item.get_object().if_contains("value");
    if (value == nullptr || !value->is_array() || value->get_array().size() != 2 ||
        !value->get_array()[1].is_string()) {
      continue;
    }
    PromSample sample;
    const std::string text(value->get_array()[1].get_string());
    char* end = nullptr;
    sample.value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || std::isnan(sample.value)) continue;
    if (metric != nullptr && metric->is_object()) {
      for (const auto& [key, label] : metric->get_object()) {
        if (label.is_string()) sample.labels[std::string(key)] = std::string(label.get_string());
      }
    }
    out.push_back(std::move(sample));
  }
  return out;
}

}  // namespace llmgate::control::metrics

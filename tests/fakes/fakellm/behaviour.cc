#include "tests/fakes/fakellm/behaviour.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <ctime>
#include <limits>

#include "absl/status/status.h"
#include "common/text/str_cat.h"
#include "tests/fakes/fakellm/timing.h"

namespace llmgate::fakellm {
namespace {

namespace json = boost::json;

absl::Status typeError(std::string_view key, std::string_view expected) {
  return absl::InvalidArgumentError(strCat("behaviour.", key, ": expected ", expected));
}

absl::StatusOr<int64_t> readInt(std::string_view key, const json::value& v, int64_t min,
                                int64_t max = std::numeric_limits<int64_t>::max()) {
  int64_t out = 0;
  if (v.is_int64()) {
    out = v.get_int64();
  } else if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(max)) {
    out = static_cast<int64_t>(v.get_uint64());
  } else if (v.is_double() && std::isfinite(v.get_double()) &&
             v.get_double() == std::floor(v.get_double()) && std::fabs(v.get_double()) < 1e15) {
    out = static_cast<int64_t>(v.get_double());
  } else {
    return typeError(key, "an integer");
  }
  if (out < min || out > max) {
    return absl::InvalidArgumentError(
        strCat("behaviour.", key, ": ", out, " is outside [", min, ", ", max, "]"));
  }
  return out;
}

absl::StatusOr<std::string> readString(std::string_view key, const json::value& v) {
  if (!v.is_string()) return typeError(key, "a string");
  return std::string(v.get_string());
}

absl::StatusOr<bool> readBool(std::string_view key, const json::value& v) {
  if (!v.is_bool()) return typeError(key, "true or false");
  return v.get_bool();
}

// A header value may be written as a string or a number.
absl::StatusOr<std::string> readScalarText(std::string_view key, const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) return json::serialize(v);
  return typeError(key, "a string or a number");
}

#define FAKELLM_ASSIGN(lhs, expr)     \
  do {                                \
    auto _r = (expr);                 \
    if (!_r.ok()) return _r.status(); \
    lhs = *std::move(_r);             \
  } while (false)

}  // namespace

void Behaviour::setHeader(std::string_view name, std::string_view value) {
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (auto& [n, v] : headers) {
    if (n == lower) {
      v = std::string(value);
      return;
    }
  }
  headers.emplace_back(std::move(lower), std::string(value));
}

void Behaviour::overlay(const Behaviour& over) {
  auto take = [](auto& mine, const auto& theirs) {
    if (theirs) mine = theirs;
  };
  take(status, over.status);
  take(error_body, over.error_body);
  take(error_type, over.error_type);
  take(error_message, over.error_message);
  for (const auto& [name, value] : over.headers) setHeader(name, value);
  take(retry_after, over.retry_after);
  take(latency_ms, over.latency_ms);
  take(ttft_ms, over.ttft_ms);
  take(tokens_per_sec, over.tokens_per_sec);
  take(keepalives, over.keepalives);
  take(keepalive_interval_ms, over.keepalive_interval_ms);
  take(keepalive_forever, over.keepalive_forever);
  take(finish_reason, over.finish_reason);
  take(answer_words, over.answer_words);
  take(cut_after, over.cut_after);
  take(reset, over.reset);
  take(hang, over.hang);
  take(empty_body, over.empty_body);
  take(malformed, over.malformed);
  take(stream_error, over.stream_error);
  take(context_window, over.context_window);
  take(cache_hit_tokens, over.cache_hit_tokens);
  take(reasoning_words, over.reasoning_words);
  take(tool_call, over.tool_call);
}

absl::StatusOr<Behaviour> parseBehaviour(const json::value& json) {
  const json::object* obj = json.if_object();
  if (obj == nullptr) return absl::InvalidArgumentError("behaviour: expected a JSON object");
  Behaviour b;
  for (const auto& [key_sv, v] : *obj) {
    const std::string_view key = key_sv;
    if (key == "status") {
      FAKELLM_ASSIGN(b.status, readInt(key, v, 100, 599));
    } else if (key == "error_body") {
      FAKELLM_ASSIGN(b.error_body, readString(key, v));
    } else if (key == "error_type") {
      FAKELLM_ASSIGN(b.error_type, readString(key, v));
    } else if (key == "error_message") {
      FAKELLM_ASSIGN(b.error_message, readString(key, v));
    } else if (key == "headers") {
      if (!v.is_object()) return typeError(key, "an object of header values");
      for (const auto& [name, value] : v.get_object()) {
        std::string text;
        FAKELLM_ASSIGN(text, readScalarText(strCat("headers.", std::string_view(name)), value));
        if (name.empty()) return absl::InvalidArgumentError("behaviour.headers: empty header name");
        b.setHeader(name, text);
      }
    } else if (key == "retry_after") {
      FAKELLM_ASSIGN(b.retry_after, readScalarText(key, v));
    } else if (key == "latency_ms") {
      FAKELLM_ASSIGN(b.latency_ms, readInt(key, v, 0, kMaxLatencyMs));
    } else if (key == "ttft_ms") {
      FAKELLM_ASSIGN(b.ttft_ms, readInt(key, v, 0, kMaxLatencyMs));
    } else if (key == "tokens_per_sec") {
      if (!v.is_number() || v.to_number<double>() < 0) return typeError(key, "a number >= 0");
      b.tokens_per_sec = v.to_number<double>();
    } else if (key == "keepalives") {
      FAKELLM_ASSIGN(b.keepalives, readInt(key, v, 0, 1000000));
    } else if (key == "keepalive_interval_ms") {
      FAKELLM_ASSIGN(b.keepalive_interval_ms, readInt(key, v, 0, kMaxLatencyMs));
    } else if (key == "keepalive_forever") {
      FAKELLM_ASSIGN(b.keepalive_forever, readBool(key, v));
    } else if (key == "finish_reason") {
      FAKELLM_ASSIGN(b.finish_reason, readString(key, v));
    } else if (key == "answer_words") {
      FAKELLM_ASSIGN(b.answer_words, readInt(key, v, 0, 1000000));
    } else if (key == "cut_after") {
      FAKELLM_ASSIGN(b.cut_after, readInt(key, v, 0, 1000000));
    } else if (key == "reset") {
      std::string mode;
      FAKELLM_ASSIGN(mode, readString(key, v));
      if (mode == "before_headers") {
        b.reset = ResetMode::kBeforeHeaders;
      } else if (mode == "after_headers") {
        b.reset = ResetMode::kAfterHeaders;
      } else if (mode == "mid_body") {
        b.reset = ResetMode::kMidBody;
      } else {
        return typeError(key, "\"before_headers\", \"after_headers\" or \"mid_body\"");
      }
    } else if (key == "hang") {
      FAKELLM_ASSIGN(b.hang, readBool(key, v));
    } else if (key == "empty_body") {
      FAKELLM_ASSIGN(b.empty_body, readBool(key, v));
    } else if (key == "malformed") {
      std::string mode;
      FAKELLM_ASSIGN(mode, readString(key, v));
      if (mode == "html") {
        b.malformed = Malformed::kHtml;
      } else if (mode == "truncated_json") {
        b.malformed = Malformed::kTruncatedJson;
      } else if (mode == "wrong_content_type") {
        b.malformed = Malformed::kWrongContentType;
      } else {
        return typeError(key, "\"html\", \"truncated_json\" or \"wrong_content_type\"");
      }
    } else if (key == "stream_error") {
      FAKELLM_ASSIGN(b.stream_error, readInt(key, v, 0, 1000000));
    } else if (key == "context_window") {
      FAKELLM_ASSIGN(b.context_window, readInt(key, v, 1));
    } else if (key == "cache_hit_tokens") {
      FAKELLM_ASSIGN(b.cache_hit_tokens, readInt(key, v, 0));
    } else if (key == "reasoning_words") {
      FAKELLM_ASSIGN(b.reasoning_words, readInt(key, v, 0, 1000000));
    } else if (key == "tool_call") {
      if (v.is_bool() && v.get_bool()) {
        b.tool_call = "";
      } else if (v.is_string()) {
        b.tool_call = std::string(v.get_string());
      } else {
        return typeError(key, "true or a tool name");
      }
    } else {
      return absl::InvalidArgumentError(strCat("behaviour: unknown field \"", key, "\""));
    }
  }
  return b;
}

absl::StatusOr<Behaviour> parseBehaviourText(std::string_view json_text) {
  boost::system::error_code ec;
  json::value v = json::parse(json_text, ec);
  if (ec) return absl::InvalidArgumentError(strCat("behaviour: invalid JSON: ", ec.message()));
  return parseBehaviour(v);
}

std::optional<Behaviour> magicModelBehaviour(std::string_view model) {
  if (!model.starts_with("fake-")) return std::nullopt;
  const std::string_view name = model.substr(5);
  Behaviour b;
  if (name == "429") {
    b.status = 429;
  } else if (name == "500") {
    b.status = 500;
  } else if (name == "503") {
    b.status = 503;
  } else if (name == "529") {
    b.status = 529;
  } else if (name == "slow") {
    b.latency_ms = 2000;
    b.ttft_ms = 2000;
  } else if (name == "length") {
    b.finish_reason = "length";
  } else if (name == "cut") {
    b.cut_after = 3;
  } else if (name == "hang") {
    b.hang = true;
  } else if (name == "empty") {
    b.empty_body = true;
  } else {
    return std::nullopt;
  }
  return b;
}

std::string retryAfterValue(std::string_view spec, int64_t now_unix) {
  constexpr std::string_view kDate = "http-date";
  if (!spec.starts_with(kDate)) return std::string(spec);
  int64_t offset = 0;
  std::string_view rest = spec.substr(kDate.size());
  if (rest.starts_with("+")) rest.remove_prefix(1);
  if (!rest.empty()) {
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), offset);
    if (ec != std::errc() || ptr != rest.data() + rest.size()) return std::string(spec);
  }
  const std::time_t t = static_cast<std::time_t>(now_unix + offset);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

std::optional<std::string_view> findDirective(std::string_view text) {
  constexpr std::string_view kMarker = "FAKELLM{";
  const size_t at = text.find(kMarker);
  if (at == std::string_view::npos) return std::nullopt;
  const size_t begin = at + kMarker.size() - 1;
  int depth = 0;
  bool in_string = false;
  for (size_t i = begin; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return text.substr(begin, i + 1 - begin);
    }
  }
  return text.substr(begin);
}

}  // namespace llmgate::fakellm

#include "tests/fakes/fakellm/options.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <cmath>

#include "absl/status/status.h"
#include "common/text/str_cat.h"

namespace llmgate::fakellm {
namespace {

template <typename T>
absl::Status parseNumber(std::string_view flag, std::string_view text, T min, T max, T& out) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) {
    return absl::InvalidArgumentError(strCat(flag, ": expected a number, got \"", text, "\""));
  }
  if (!(value >= min && value <= max)) {
    return absl::InvalidArgumentError(
        strCat(flag, ": ", text, " is outside [", min, ", ", max, "]"));
  }
  out = value;
  return absl::OkStatus();
}

absl::Status parseListen(std::string_view text, Options& o) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(strCat("--listen: expected HOST:PORT, got \"", text, "\""));
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) {
    return absl::InvalidArgumentError(strCat("--listen: \"", host, "\" is not an IP address"));
  }
  int port = 0;
  if (auto s = parseNumber("--listen", text.substr(colon + 1), 0, 65535, port); !s.ok()) return s;
  o.host = address.to_string();
  o.port = static_cast<uint16_t>(port);
  if (!address.is_loopback() && !o.allow_non_loopback) {
    return absl::InvalidArgumentError(strCat("--listen: refusing non-loopback address ", o.host,
                                             " without --allow-non-loopback"));
  }
  return absl::OkStatus();
}

}  // namespace

Behaviour Options::defaults() const {
  Behaviour b;
  if (latency_ms > 0) b.latency_ms = latency_ms;
  if (ttft_ms > 0) b.ttft_ms = ttft_ms;
  if (tokens_per_sec > 0) b.tokens_per_sec = tokens_per_sec;
  b.answer_words = answer_words;
  if (context_window > 0) b.context_window = context_window;
  return b;
}

absl::StatusOr<Options> parseOptions(const std::vector<std::string_view>& args) {
  Options o;
  std::string_view listen;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    std::string_view value;
    bool has_value = false;
    if (const size_t eq = flag.find('='); flag.starts_with("--") && eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> absl::StatusOr<std::string_view> {
      if (has_value) return value;
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(strCat(flag, ": missing value"));
      return args[++i];
    };
    auto number = [&](auto min, auto max, auto& out) -> absl::Status {
      auto v = next();
      if (!v.ok()) return v.status();
      return parseNumber(flag, *v, min, max, out);
    };
    absl::Status s;
    if (flag == "--help" || flag == "-h") {
      o.help = true;
    } else if (flag == "--version") {
      o.version = true;
    } else if (flag == "--allow-non-loopback") {
      o.allow_non_loopback = true;
    } else if (flag == "--lenient") {
      o.strict = false;
    } else if (flag == "--no-prompt-cache") {
      o.prompt_cache = false;
    } else if (flag == "--listen") {
      auto v = next();
      if (!v.ok()) return v.status();
      listen = *v;
    } else if (flag == "--threads") {
      s = number(1, 256, o.threads);
    } else if (flag == "--latency-ms") {
      s = number(int64_t{0}, kMaxLatencyMs, o.latency_ms);
    } else if (flag == "--ttft-ms") {
      s = number(int64_t{0}, kMaxLatencyMs, o.ttft_ms);
    } else if (flag == "--tokens-per-sec") {
      s = number(0.0, 1e9, o.tokens_per_sec);
    } else if (flag == "--latency-dist") {
      auto v = next();
      if (!v.ok()) return v.status();
      if (*v == "fixed") {
        o.latency_dist = LatencyDist::kFixed;
      } else if (*v == "uniform") {
        o.latency_dist = LatencyDist::kUniform;
      } else if (*v == "lognormal") {
        o.latency_dist = LatencyDist::kLognormal;
      } else {
        return absl::InvalidArgumentError(
            strCat("--latency-dist: expected fixed, uniform or lognormal, got \"", *v, "\""));
      }
    } else if (flag == "--latency-jitter-ms") {
      s = number(int64_t{0}, kMaxLatencyMs, o.latency_jitter_ms);
    } else if (flag == "--cold-start-ms") {
      s = number(int64_t{0}, kMaxLatencyMs, o.cold_start_ms);
    } else if (flag == "--idle-ms") {
      s = number(int64_t{0}, kMaxLatencyMs, o.idle_ms);
    } else if (flag == "--require-key") {
      auto v = next();
      if (!v.ok()) return v.status();
      o.require_key = std::string(*v);
    } else if (flag == "--seed") {
      s = number(uint64_t{0}, UINT64_MAX, o.seed);
    } else if (flag == "--answer-words") {
      s = number(int64_t{0}, int64_t{1000000}, o.answer_words);
    } else if (flag == "--context-window") {
      s = number(int64_t{0}, INT64_MAX, o.context_window);
    } else if (flag == "--max-concurrency") {
      s = number(int64_t{0}, INT64_MAX, o.max_concurrency);
    } else if (flag == "--embedding-dims") {
      s = number(1, 8192, o.embedding_dims);
    } else {
      return absl::InvalidArgumentError(strCat("unknown flag \"", flag, "\" (see --help)"));
    }
    if (!s.ok()) return s;
  }
  // Checked last so that the flag order does not matter for --allow-non-loopback.
  if (!listen.empty()) {
    if (auto s = parseListen(listen, o); !s.ok()) return s;
  }
  return o;
}

std::string usageText() {
  return R"(fakellm: a fake LLM provider (OpenAI, DeepSeek, DashScope, Mistral, Anthropic dialects)

Usage: fakellm [--listen 127.0.0.1:PORT] [options]

  --listen HOST:PORT        address to bind (default 127.0.0.1:0; port 0 picks a free port).
                            Prints "fakellm listening on HOST:PORT" once bound.
  --allow-non-loopback      allow binding an address other than loopback
  --threads N               io_context threads, one SO_REUSEPORT acceptor each (default 1)
  --latency-ms N            non-stream total latency (default 0)
  --ttft-ms N               stream time to first token (default 0)
  --tokens-per-sec N        stream pacing, 0 = as fast as possible (default 0)
  --latency-dist D          fixed | uniform | lognormal (default fixed)
  --latency-jitter-ms N     spread of the latency distribution (default 0)
  --cold-start-ms N         the first request, and the first after --idle-ms, waits N ms
  --idle-ms N               idle time after which the next request is cold (0: only the first)
  --require-key KEY         401 unless the request carries KEY (Bearer or x-api-key)
  --seed N                  seed for ids and latency jitter (default 0)
  --answer-words N          words per answer (1 word = 1 token, default 24)
  --embedding-dims N        embedding dimensions (default 8)
  --context-window N        400 (context length, the dialect's wording) when prompt tokens +
                            max_tokens exceed N (default 0: no limit)
  --max-concurrency N       chat requests in flight above N get the dialect's 429, like
                            DeepSeek's account concurrency cap (default 0: no limit)
  --lenient                 accept what the real providers reject (roles, extra fields, ...)
  --no-prompt-cache         DeepSeek prompt_cache_hit_tokens always 0
  --help, --version

Behaviours (status, latency, faults) are chosen per request; see docs/FAKELLM.md.
)";
}

}  // namespace llmgate::fakellm

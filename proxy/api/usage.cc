#include "proxy/api/usage.h"

#include <algorithm>

namespace llmgate::proxy::api {
namespace {

std::uint64_t count(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() > 0) return static_cast<std::uint64_t>(v->get_int64());
  return 0;
}

}  // namespace

std::optional<Usage> usageOf(const boost::json::object& response) {
  const boost::json::value* u = response.if_contains("usage");
  if (u == nullptr || !u->is_object()) return std::nullopt;
  const boost::json::object& usage = u->get_object();
  Usage out;
  out.prompt_tokens = count(usage, "prompt_tokens");
  out.completion_tokens = count(usage, "completion_tokens");
  if (const auto* details = usage.if_contains("prompt_tokens_details");
      details && details->is_object()) {
    out.cached_prompt_tokens = count(details->get_object(), "cached_tokens");
  }
  out.cached_prompt_tokens =
      std::max(out.cached_prompt_tokens, count(usage, "prompt_cache_hit_tokens"));
  out.cached_prompt_tokens = std::min(out.cached_prompt_tokens, out.prompt_tokens);
  return out;
}

double costUsd(const Usage& usage, const config::Price& price) {
  const double uncached = static_cast<double>(usage.prompt_tokens - usage.cached_prompt_tokens);
  return (uncached * price.input +
          static_cast<double>(usage.cached_prompt_tokens) * price.cached_input +
          static_cast<double>(usage.completion_tokens) * price.output) /
         1e6;
}

}  // namespace llmgate::proxy::api

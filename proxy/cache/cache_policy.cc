#include "proxy/cache/cache_policy.h"

#include <cctype>
#include <cmath>
#include <string>

#include "common/text/str_cat.h"

namespace llmgate::proxy::cache {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

using api::JsonScalar;

bool isInteger(const JsonScalar& v) {
  if (v.kind == JsonScalar::Kind::kInt64 || v.kind == JsonScalar::Kind::kUint64) return true;
  return v.kind == JsonScalar::Kind::kDouble && std::isfinite(v.number) &&
         std::trunc(v.number) == v.number;
}

bool deterministic(const JsonScalar& n, const JsonScalar& temperature, const JsonScalar& seed) {
  if (n.present()) {
    const auto value = n.asNumber();
    if (!value || *value != 1) return false;
  }
  if (temperature.present()) {
    if (temperature.isNull()) return false;  // treated like "absent" by providers: default > 0
    const auto value = temperature.asNumber();
    return value && *value == 0;
  }
  return seed.present() && isInteger(seed);
}

CacheDecision decide(CacheMode mode, CacheDirective directive, bool is_deterministic) {
  CacheDecision d;
  d.only_if_cached = directive == CacheDirective::kOnlyIfCached;
  if (mode == CacheMode::kOff) return d;
  const bool eligible = mode == CacheMode::kAlways || is_deterministic;
  switch (directive) {
    case CacheDirective::kDefault:
      d.lookup = eligible;
      d.store = eligible;
      break;
    case CacheDirective::kNoStore:
      d.lookup = eligible;
      break;
    case CacheDirective::kNoCache:
      d.store = eligible;
      break;
    case CacheDirective::kOnlyIfCached:
      d.lookup = true;
      break;
  }
  return d;
}

}  // namespace

std::optional<CacheMode> parseCacheMode(std::string_view mode) {
  if (mode == "deterministic") return CacheMode::kDeterministic;
  if (mode == "always") return CacheMode::kAlways;
  if (mode == "off") return CacheMode::kOff;
  return std::nullopt;
}

api::ApiResult<CacheDirective> parseCacheDirective(std::optional<std::string_view> header) {
  if (!header) return CacheDirective::kDefault;
  const std::string_view v = trim(*header);
  if (equalsIgnoreCase(v, "default")) return CacheDirective::kDefault;
  if (equalsIgnoreCase(v, "no-store")) return CacheDirective::kNoStore;
  if (equalsIgnoreCase(v, "no-cache")) return CacheDirective::kNoCache;
  if (equalsIgnoreCase(v, "only-if-cached")) return CacheDirective::kOnlyIfCached;
  // The value is not echoed: it is client input and may be anything.
  return api::ApiError::invalidRequest(
      strCat("Invalid ", kCacheHeader,
             " header: expected one of default, no-store, no-cache, only-if-cached"),
      std::string(kCacheHeader));
}

bool isDeterministic(const api::ChatRequest& request) {
  return deterministic(request.n, request.temperature, request.seed);
}

bool isDeterministic(const boost::json::object& chat_body) {
  return deterministic(JsonScalar::of(chat_body.if_contains("n")),
                       JsonScalar::of(chat_body.if_contains("temperature")),
                       JsonScalar::of(chat_body.if_contains("seed")));
}

CacheDecision decideCache(CacheMode mode, CacheDirective directive,
                          const api::ChatRequest& request) {
  return decide(mode, directive, mode == CacheMode::kDeterministic && isDeterministic(request));
}

CacheDecision decideCache(CacheMode mode, CacheDirective directive,
                          const boost::json::object& chat_body) {
  return decide(mode, directive, mode == CacheMode::kDeterministic && isDeterministic(chat_body));
}

}  // namespace llmgate::proxy::cache

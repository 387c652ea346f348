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

// The number a JSON value holds, if it is one.
std::optional<double> numberOf(const boost::json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

bool isInteger(const boost::json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  return v.is_double() && std::isfinite(v.get_double()) &&
         std::trunc(v.get_double()) == v.get_double();
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

bool isDeterministic(const boost::json::object& chat_body) {
  if (const auto* n = chat_body.if_contains("n")) {
    const auto value = numberOf(*n);
    if (!value || *value != 1) return false;
  }
  if (const auto* temperature = chat_body.if_contains("temperature")) {
    if (temperature->is_null()) return false;  // treated like "absent" by providers: default > 0
    const auto value = numberOf(*temperature);
    return value && *value == 0;
  }
  const auto* seed = chat_body.if_contains("seed");
  return seed != nullptr && isInteger(*seed);
}

CacheDecision decideCache(CacheMode mode, CacheDirective directive,
                          const boost::json::object& chat_body) {
  CacheDecision d;
  d.only_if_cached = directive == CacheDirective::kOnlyIfCached;
  if (mode == CacheMode::kOff) return d;
  const bool eligible = mode == CacheMode::kAlways || isDeterministic(chat_body);
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

}  // namespace llmgate::proxy::cache

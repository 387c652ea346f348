// Cost of the cache's per-request work: the key of a 4 KB chat request
// (canonical JSON + two SHA-256), an L1 hit, and replaying a hit as SSE.
#include <string>

#include "benchmark/benchmark.h"
#include "boost/json/parse.hpp"
#include "common/json/canonical.h"
#include "proxy/cache/cache_key.h"
#include "proxy/cache/lru_cache.h"
#include "proxy/cache/sse_replay.h"

namespace {

using namespace llmgate::proxy::cache;

// A realistic ~4 KB request: system prompt, a few turns, a tool, sampling fields.
boost::json::object request4k() {
  std::string turn(300, 'x');
  for (std::size_t i = 0; i < turn.size(); i += 6) turn[i] = ' ';
  std::string text = R"({"model":"gpt-4o","temperature":0,"seed":7,"max_tokens":512,
    "top_p":1,"stream":false,"response_format":{"type":"text"},
    "tools":[{"type":"function","function":{"name":"lookup","description":"Look a customer up",
      "parameters":{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}}}],
    "messages":[{"role":"system","content":"You are a helpful support assistant. )" +
                     turn + R"("})";
  for (int i = 0; i < 5; ++i) {
    text += R"(,{"role":"user","content":"Question )" + std::to_string(i) + ": " + turn + R"("})";
    text +=
        R"(,{"role":"assistant","content":"Answer )" + std::to_string(i) + ": " + turn + R"("})";
  }
  text += "]}";
  return boost::json::parse(text).as_object();
}

void BM_CacheKey4K(benchmark::State& state) {
  const auto body = request4k();
  state.counters["request_bytes"] = static_cast<double>(llmgate::json::canonicalJson(body).size());
  for (auto _ : state) {
    auto key = makeCacheKey("tenant-a", "gpt-4o", "openai", "gpt-4o-2024-08-06", body);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_CacheKey4K);

void BM_CanonicalJson4K(benchmark::State& state) {
  const boost::json::value body = request4k();
  std::string out;
  for (auto _ : state) {
    out.clear();
    llmgate::json::appendCanonicalJson(out, body);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_CanonicalJson4K);

void BM_L1Hit(benchmark::State& state) {
  LruCache cache({.max_bytes = 64 << 20, .shards = 16});
  auto response = std::make_shared<const CachedResponse>(
      CachedResponse{.body = std::string(2000, 'x'), .model = "gpt-4o", .provider = "openai"});
  const auto key = makeCacheKey("t", "m", "p", "u", request4k());
  cache.put(key.value, response);
  for (auto _ : state) {
    auto hit = cache.get(key.value);
    benchmark::DoNotOptimize(hit);
  }
}
BENCHMARK(BM_L1Hit)->Threads(1)->Threads(2);

void BM_SseReplay(benchmark::State& state) {
  CachedResponse r;
  r.body = R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o",
    "choices":[{"index":0,"message":{"role":"assistant","content":")" +
           std::string(1500, 'a') + R"("},"logprobs":null,"finish_reason":"stop"}],
    "usage":{"prompt_tokens":900,"completion_tokens":400,"total_tokens":1300}})";
  for (auto _ : state) {
    auto sse = toSseReplay(r, true);
    benchmark::DoNotOptimize(sse);
  }
}
BENCHMARK(BM_SseReplay);

}  // namespace

BENCHMARK_MAIN();

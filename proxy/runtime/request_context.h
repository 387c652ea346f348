// What a handler gets for one request.
#pragma once

#include <random>
#include <string>

#include "boost/beast/http/message.hpp"
#include "boost/beast/http/string_body.hpp"
#include "common/time/clock.h"
#include "proxy/cache/cache.h"
#include "proxy/cache/coalescer.h"
#include "proxy/cache/redis_cache.h"
#include "proxy/runtime/gateway_snapshot.h"
#include "proxy/runtime/response_writer.h"
#include "proxy/runtime/upstream_pools.h"
#include "proxy/telemetry/stats.h"

namespace llmgate::proxy::runtime {

struct RequestContext {
  const boost::beast::http::request<boost::beast::http::string_body>& request;
  const GatewaySnapshot& snapshot;
  UpstreamPools& pools;
  ResponseWriter& writer;
  std::string tenant;
  time::SteadyTime received_at;
  telemetry::Stats& stats;
  std::mt19937_64& rng;         // the worker's
  cache::Cache* cache;          // nullptr when cache.mode is off
  cache::Coalescer* coalescer;  // shared by the workers
  // Filled in by the handler (route, model, provider, tokens, cost, ttft...);
  // the session completes it and reports it once the response is sent.
  telemetry::RequestRecord& record;
  // This worker's Redis connection when cache.redis is configured (the
  // shared budget counters use it), else nullptr.
  cache::RedisCache* redis = nullptr;
};

}  // namespace llmgate::proxy::runtime

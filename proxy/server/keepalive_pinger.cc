#include "proxy/server/keepalive_pinger.h"

#include <map>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/json/serialize.hpp"
#include "common/log/log.h"
#include "proxy/handlers/upstream_exchange.h"
#include "proxy/server/worker.h"

namespace llmgate::proxy::server {
namespace {

namespace asio = boost::asio;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kTick = std::chrono::seconds(1);

asio::awaitable<void> ping(Worker& worker, runtime::SnapshotPtr snapshot,
                           const config::ProviderConfig& provider,
                           const config::ModelConfig& model) {
  const providers::ProviderAdapter& adapter = providers::adapterFor(provider.kind);
  boost::json::object body{
      {"model", model.name},
      {"messages", boost::json::array{boost::json::object{{"role", "user"}, {"content", "ping"}}}},
      {"max_tokens", 1},
      {"temperature", 0}};
  adapter.prepareChatBody(body, model);
  const std::string body_text = boost::json::serialize(body);
  auto request = handlers::makeUpstreamRequest(provider, adapter, adapter.chatPath(provider),
                                               body_text, false);
  const time::SteadyTime start = time::steadyNow();
  upstream::UpstreamCall call(worker.pools().poolFor(provider),
                              handlers::deadlinesFor(provider, start, false));
  upstream::UpstreamError error = co_await call.start(request);
  const double first_byte_s = std::chrono::duration<double>(time::steadyNow() - start).count();
  bool ok = !error && call.status() == 200;
  if (!error) {
    std::string ignored;
    ok = !(co_await call.readAll(ignored, 1u << 20)) && ok;
    call.finish();
  }
  worker.stats().onKeepalivePing(provider.name, ok, first_byte_s);
  if (!ok) {
    log::debug("keepalive ping to provider ", provider.name, " failed: ",
               error ? error.detail : std::string("HTTP ") + std::to_string(call.status()));
  }
}

}  // namespace

asio::awaitable<void> runKeepalivePinger(Worker& worker) {
  std::map<std::string, time::SteadyTime> last_ping;
  asio::steady_timer timer(worker.ioc());
  while (true) {
    timer.expires_after(kTick);
    auto [ec] = co_await timer.async_wait(kTuple);
    if (ec) co_return;
    if (worker.state().draining.load(std::memory_order_relaxed)) continue;  // no new work
    const runtime::SnapshotPtr snapshot = worker.snapshot();
    const time::SteadyTime now = time::steadyNow();
    for (const config::ProviderConfig& provider : snapshot->config->providers) {
      if (!provider.keepalive_ping) continue;
      const config::ModelConfig* model =
          snapshot->config->findModel(provider.keepalive_ping->model);
      if (model == nullptr) continue;
      const auto interval = provider.keepalive_ping->interval;
      auto pool = worker.pools().poolFor(provider);
      time::SteadyTime& last = last_ping[provider.name];
      if (now - pool->lastUsed() < interval || now - last < interval) continue;
      last = now;
      // Detached: a slow provider never delays the pings of the others. The
      // snapshot is captured so the config outlives the ping.
      asio::co_spawn(worker.ioc(), ping(worker, snapshot, provider, *model), asio::detached);
    }
  }
}

}  // namespace llmgate::proxy::server

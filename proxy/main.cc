// llmgate: the data plane. Glue only: parse flags, load config, start the
// workers and the admin listener, handle SIGHUP (reload) and SIGTERM (drain).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "common/config/loader.h"
#include "common/log/log.h"
#include "common/process/malloc_tuning.h"
#include "common/text/str_cat.h"
#include "proxy/admin/admin_server.h"
#include "proxy/control/control_plane_client.h"
#include "proxy/control/control_plane_telemetry.h"
#include "proxy/runtime/config_watcher.h"
#include "proxy/server/drain_coordinator.h"
#include "proxy/server/endpoint.h"
#include "proxy/server/worker.h"
#include "proxy/telemetry/access_log.h"
#include "proxy/telemetry/prometheus_stats.h"
#include "proxy/telemetry/proxy_metrics.h"
#include "proxy/upstream/upstream_pool.h"

namespace {

namespace asio = boost::asio;
using namespace llmgate;

constexpr std::string_view kUsage = R"(llmgate — an LLM gateway speaking the OpenAI API

Usage:
  llmgate [--config FILE]        run (without --config: the embedded default,
                                 one provider on 127.0.0.1:18999, for `make run`)
  llmgate --check-config FILE    validate FILE, print one line per problem, exit 0/1
  llmgate --print-default-config print the embedded default config
  llmgate --help | --version

Signals: SIGHUP reloads the config file, and so does a change of the file
itself (checked every server.config_watch_interval); a bad file is refused and
the old config keeps serving. SIGTERM/SIGINT: /readyz turns 503, listeners
close, in-flight requests and streams finish up to server.drain_timeout (the
rest end with server_shutting_down), then exit 0. A second SIGTERM/SIGINT
exits at once with status 1.
Docs: docs/CONFIG.md (keys), docs/ERRORS.md (error codes).
)";

struct Options {
  std::string config_path;
  bool check_only = false;
};

int usageError(std::string_view message) {
  std::cerr << "llmgate: " << message << "\nTry `llmgate --help`.\n";
  return 2;
}

void printProblems(const absl::Status& status) {
  std::cerr << std::string(status.message());
  if (!status.message().empty() && status.message().back() != '\n') std::cerr << '\n';
}

// The config as published to every worker and read by the admin listener.
class SnapshotHolder {
 public:
  void set(proxy::runtime::SnapshotPtr s) {
    std::lock_guard lock(mu_);
    current_ = std::move(s);
  }
  proxy::runtime::SnapshotPtr get() const {
    std::lock_guard lock(mu_);
    return current_;
  }

 private:
  mutable std::mutex mu_;  // admin and reload only, never the request path
  proxy::runtime::SnapshotPtr current_;
};

absl::StatusOr<config::Config> loadConfig(const Options& options) {
  if (options.config_path.empty()) {
    return config::loadConfigString(config::embeddedDefaultConfig(), "<embedded default>");
  }
  return config::loadConfigFile(options.config_path);
}

void applyLogging(const config::Config& cfg) {
  log::Level level = log::Level::kInfo;
  if (log::parseLevel(cfg.logging.level, &level)) log::setLevel(level);
}

int run(const Options& options) {
  absl::StatusOr<config::Config> loaded = loadConfig(options);
  if (!loaded.ok()) {
    std::cerr << "llmgate: invalid config "
              << (options.config_path.empty() ? "<embedded default>" : options.config_path)
              << ":\n";
    printProblems(loaded.status());
    return 1;
  }
  applyLogging(*loaded);
  auto cfg = std::make_shared<const config::Config>(std::move(*loaded));
  std::atomic<std::uint64_t> version = 1;  // bumped by publish (gRPC and signal threads)
  SnapshotHolder holder;
  holder.set(std::make_shared<const proxy::runtime::GatewaySnapshot>(cfg, version.load()));

  auto listen = proxy::server::parseListenAddress(cfg->server.listen);
  auto admin_listen = proxy::server::parseListenAddress(cfg->server.admin_listen);
  if (!listen.ok() || !admin_listen.ok()) {
    std::cerr << "llmgate: bad listen address: "
              << (listen.ok() ? admin_listen.status() : listen.status()).message() << "\n";
    return 1;
  }

  unsigned workers = cfg->server.workers > 0 ? static_cast<unsigned>(cfg->server.workers)
                                             : std::max(1u, std::thread::hardware_concurrency());
  auto tls = proxy::upstream::makeClientTlsContext();
  proxy::server::ServerState state;

  // --- Telemetry (issue 6): one registry for /metrics, the access log. ---
  proxy::telemetry::ProxyMetrics metrics(state);
  absl::StatusOr<std::unique_ptr<proxy::telemetry::AccessLog>> access_log =
      proxy::telemetry::AccessLog::open(cfg->logging.access_log);
  if (!access_log.ok()) {
    std::cerr << "llmgate: " << access_log.status().message() << "\n";
    return 1;
  }
  proxy::telemetry::PrometheusStats stats(metrics.registry(), access_log->get());
  stats.setRouteVersion(version.load());
  // With `control_plane:`, the workers also feed the telemetry reporter.
  std::unique_ptr<proxy::control::ControlPlaneTelemetry> cp_telemetry;
  if (cfg->control_plane) {
    auto made = proxy::control::ControlPlaneTelemetry::create(
        *cfg->control_plane, stats, metrics.registry(),
        [&holder] { return holder.get()->config->routes_version; });
    if (!made.ok()) {
      std::cerr << "llmgate: " << made.status().message() << "\n";
      return 1;
    }
    cp_telemetry = std::move(*made);
  }
  proxy::telemetry::Stats& worker_stats = cp_telemetry ? cp_telemetry->stats() : stats;
  // --- end telemetry ---
  // Control plane (issue 7): every config change (route snapshot, its cache
  // file, SIGHUP) reaches the workers through `publish`, one at a time.
  std::vector<std::unique_ptr<proxy::server::Worker>> pool;
  proxy::control::ControlPlaneClient control(
      *cfg,
      {.publish =
           [&](std::shared_ptr<const config::Config> next) {
             const std::uint64_t shown = proxy::control::numericRouteVersion(*next, ++version);
             auto snapshot = std::make_shared<const proxy::runtime::GatewaySnapshot>(
                 std::move(next), shown, holder.get().get());
             holder.set(snapshot);
             for (auto& w : pool) w->publish(snapshot);
             stats.setRouteVersion(shown);
           },
       .connected = [&stats](bool connected) { stats.setControlConnected(connected); },
       .override_gauge = [&stats](std::string_view model, std::string_view target,
                                  bool active) { stats.setRouteOverride(model, target, active); },
       .registry = &metrics.registry()});
  // The response cache: L1 shared by the workers (sharded), L2 per worker.
  std::unique_ptr<proxy::cache::LruCache> l1;
  if (cfg->cache.mode != "off") {
    l1 = std::make_unique<proxy::cache::LruCache>(proxy::cache::LruCacheOptions{
        .max_bytes = cfg->cache.l1_max_bytes, .default_ttl = cfg->cache.l1_ttl});
  }
  proxy::cache::Coalescer coalescer;
  // State that is not event driven, copied into gauges at each scrape.
  metrics.setRefresh([&holder, &stats, &control, l1 = l1.get()](proxy::telemetry::ProxyMetrics& m) {
    control.refreshOverrideGauges();
    if (l1 != nullptr) {
      const proxy::cache::LruCacheStats cache = l1->stats();
      m.setCacheEntries(static_cast<double>(cache.entries));
      m.setCacheEvictionsTotal(cache.evictions);
      stats.setCacheBytes("l1", static_cast<double>(cache.resident_bytes));
    }
    m.setUpstreamConnections(
        static_cast<double>(proxy::upstream::UpstreamPool::totalOpenConnections()));
    const proxy::runtime::SnapshotPtr snapshot = holder.get();
    const auto now = llmgate::time::steadyNow();
    for (const auto& model : snapshot->config->models) {
      stats.setEjected(model.name, model.provider,
                       snapshot->health->target(model.name).ejected(now));
    }
    for (const auto& model : snapshot->config->models) {
      if (auto accuracy = snapshot->estimator->lastAccuracy(model.name)) {
        m.setEstimateAccuracy(model.name, *accuracy);
      }
      for (std::size_t i = 0; i < proxy::routing::kScriptCount; ++i) {
        const auto script = static_cast<proxy::routing::Script>(i);
        if (auto usd = snapshot->estimator->observedUsdPer1kChars(model.name, script)) {
          m.setUsdPer1kChars(model.name, proxy::routing::toString(script), *usd);
        }
      }
    }
    for (const auto& client : snapshot->config->clients) {
      if (auto budget = snapshot->budgets->status(client.tenant)) {
        m.setTenantSpend(client.tenant, budget->spent_usd, budget->limit_usd);
      }
    }
  });
  asio::ip::tcp::endpoint endpoint = *listen;
  for (unsigned i = 0; i < workers; ++i) {
    pool.push_back(std::make_unique<proxy::server::Worker>(static_cast<int>(i), workers, *tls,
                                                           state, worker_stats, holder.get(),
                                                           l1.get(), coalescer));
    if (absl::Status s = pool.back()->listen(endpoint); !s.ok()) {
      std::cerr << "llmgate: " << s.message() << "\n";
      return 1;
    }
  }

  proxy::admin::AdminServer admin(
      state, [&holder] { return holder.get(); }, [&metrics] { return metrics.scrape(); });
  if (absl::Status s = admin.listen(*admin_listen); !s.ok()) {
    std::cerr << "llmgate: " << s.message() << "\n";
    return 1;
  }
  admin.setRoutesSource([&control] { return control.routesJson(); });
  if (absl::Status s = control.start(); !s.ok()) {
    std::cerr << "llmgate: " << s.message() << "\n";
    return 1;
  }

  for (auto& w : pool) w->start();
  admin.start();
  if (cp_telemetry) cp_telemetry->start();
  state.ready = true;
  log::info("llmgate ", LLMGATE_VERSION, " listening on ", cfg->server.listen, " (", workers,
            " workers), admin on ", cfg->server.admin_listen, ", config ", cfg->source);

  // Signals, reloads and the drain run on the main thread's own io_context.
  asio::io_context main_ioc{1};
  asio::signal_set signals(main_ioc, SIGINT, SIGTERM, SIGHUP);
  int exit_code = 0;
  std::unique_ptr<proxy::runtime::ConfigWatcher> watcher;
  // SIGHUP and the file watcher: the same loader, the same publication.
  auto reload = [&](std::string_view why) {
    if (options.config_path.empty()) {
      log::warn(why, ": running on the embedded default config; nothing to reload");
      return;
    }
    absl::StatusOr<config::Config> next = config::loadConfigFile(options.config_path);
    if (!next.ok()) {
      log::error(
          why, ": config ", options.config_path,
          " refused, the previous config keeps serving: ", std::string(next.status().message()));
      return;
    }
    const config::ServerConfig& before = holder.get()->config->server;
    if (next->server.listen != before.listen || next->server.admin_listen != before.admin_listen ||
        next->server.workers != before.workers) {
      log::warn(why,
                ": server.listen, server.admin_listen and server.workers take effect "
                "only at the next start");
    }
    const config::Duration watch_interval = next->server.config_watch_interval;
    config::Config applied_logging = *next;
    // The control plane's route table (if any) is re-applied on the new file.
    if (absl::Status s = control.reloadFile(*next); !s.ok()) {
      log::error(why, ": config ", options.config_path,
                 " refused: the control plane's route table does not fit it, the previous "
                 "config keeps serving: ",
                 std::string(s.message()));
      return;
    }
    applyLogging(applied_logging);
    if (watcher) watcher->setInterval(watch_interval);
    log::info(why, ": config reloaded (version ", holder.get()->version, ")");
  };
  if (!options.config_path.empty()) {
    watcher = std::make_unique<proxy::runtime::ConfigWatcher>(
        options.config_path, cfg->server.config_watch_interval, [&main_ioc, &reload] {
          asio::post(main_ioc, [&reload] { reload("config file changed"); });
        });
    watcher->start();
  }

  std::vector<proxy::server::Drainable*> drainables;
  for (auto& w : pool) drainables.push_back(w.get());
  proxy::server::DrainCoordinator coordinator(state, std::move(drainables));
  bool draining = false;
  auto drain = [&]() -> asio::awaitable<void> {
    proxy::server::DrainTimings timings;
    timings.drain_timeout = holder.get()->config->server.drain_timeout;
    co_await coordinator.run(timings);
    main_ioc.stop();
  };
  std::function<void()> wait_signal;
  wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        reload("SIGHUP");
      } else if (!draining) {
        draining = true;
        state.draining = true;  // /readyz says 503 from now on
        asio::co_spawn(main_ioc, drain(), asio::detached);
      } else {
        log::warn("second SIGTERM/SIGINT during the drain: exiting now, ",
                  state.inflight_requests.load(), " request(s) cut");
        exit_code = 1;
        main_ioc.stop();
        return;
      }
      wait_signal();
    });
  };
  wait_signal();
  main_ioc.run();
  control.stop();

  if (watcher) watcher->stop();
  for (auto& w : pool) w->stop();
  for (auto& w : pool) w->join();
  // Requests cut by a hard exit end here (their coroutines are destroyed):
  // before the access log stops, so their lines are still written.
  pool.clear();
  admin.stop();
  if (cp_telemetry) cp_telemetry->stop();
  if (*access_log) (*access_log)->stop();  // after the workers: their last lines are written
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--version") {
      std::cout << "llmgate " << LLMGATE_VERSION << "\n";
      return 0;
    }
    if (arg == "--print-default-config") {
      std::cout << config::embeddedDefaultConfig();
      return 0;
    }
    if (arg == "--config" || arg == "--check-config") {
      if (i + 1 >= argc) return usageError(strCat(arg, " needs a FILE"));
      options.config_path = argv[++i];
      options.check_only = options.check_only || arg == "--check-config";
      continue;
    }
    return usageError(strCat("unknown argument `", arg, "`"));
  }
  if (options.check_only) {
    absl::StatusOr<config::Config> loaded = config::loadConfigFile(options.config_path);
    if (!loaded.ok()) {
      printProblems(loaded.status());
      return 1;
    }
    std::cout << options.config_path << ": ok (" << loaded->providers.size() << " providers, "
              << loaded->models.size() << " models, " << loaded->routes.size() << " routes)\n";
    return 0;
  }
  // A server only: may execute this binary again, once, with glibc tuned.
  process::applyMallocTunables(argv);
  return run(options);
}

// llmgate-control: the control plane (../shared/DESIGN.md, "Control plane").
//
// Glue only: loads the config, builds the Controller, serves RouteDiscovery,
// Telemetry, Admin, grpc.health.v1 and reflection, and runs the policy loop
// every `evaluate_every` until SIGINT/SIGTERM.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/config/control_loader.h"
#include "common/log/log.h"
#include "common/text/str_cat.h"
#include "common/time/clock.h"
#include "control/http/control_metrics.h"
#include "control/http/decision_counter.h"
#include "control/http/endpoints.h"
#include "control/http/http_server.h"
#include "control/http/tls_files.h"
#include "control/http/tls_reloader.h"
#include "control/metrics/prometheus_source.h"
#include "control/service/admin_service.h"
#include "control/service/controller.h"
#include "control/service/route_discovery_service.h"
#include "control/service/telemetry_service.h"
#include "control/service/token_check.h"

namespace {

constexpr std::string_view kName = "llmgate-control";
constexpr int kShutdownGraceSeconds = 5;

// Exit codes: 0 done, 1 runtime failure, 2 bad command line.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kHelp = R"(Usage: llmgate-control [--config FILE] [--listen HOST:PORT]

The llmgate control plane: collects telemetry from the llmgate proxies of a
cluster, decides routing from policies and operator overrides, and pushes
route tables back to the proxies over gRPC.

Options:
  --config FILE        control-plane config (YAML; see docs/CONFIG.md)
  --listen HOST:PORT   gRPC listen address (default: 0.0.0.0:50051; port 0
                       picks a free port, printed on start)
  -h, --help           print this help and exit
  --version            print the version and exit

Serves llmgate.control.v1 RouteDiscovery, Telemetry and Admin, the standard
grpc.health.v1 health service and gRPC server reflection (with mTLS when the
config sets tls:). With admin_listen: HTTP /healthz, /readyz, /metrics. With
webhook_tls: the sidecar-injection webhook, HTTPS POST /mutate on
webhook_listen (see docs/KUBERNETES.md). The Admin token is
read from the variable named by admin_token_env (LLMGATE_ADMIN_TOKEN by
default); without it every Admin call is refused. --listen overrides the
config's listen. Stops on SIGINT or SIGTERM. See docs/CONTROL_PLANE.md.
)";

struct Options {
  std::optional<std::string> config_path;
  std::optional<std::string> listen;
};

void printUsageError(std::string_view message) {
  std::fprintf(stderr, "%.*s: %.*s (see --help)\n", static_cast<int>(kName.size()), kName.data(),
               static_cast<int>(message.size()), message.data());
}

// Splits "--flag=value" or takes the value from the next argument.
std::optional<std::string> flagValue(std::string_view arg, std::string_view flag, int& i, int argc,
                                     char** argv) {
  if (arg.size() > flag.size() && arg[flag.size()] == '=') {
    return std::string(arg.substr(flag.size() + 1));
  }
  if (i + 1 >= argc) return std::nullopt;
  return std::string(argv[++i]);
}

bool hasFlagName(std::string_view arg, std::string_view flag) {
  return arg == flag ||
         (arg.size() > flag.size() && arg.starts_with(flag) && arg[flag.size()] == '=');
}

// Returns an exit code when the process should stop right away (help,
// version, usage error), nullopt to run.
std::optional<int> parseArgs(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fwrite(kHelp.data(), 1, kHelp.size(), stdout);
      return kExitOk;
    }
    if (arg == "--version") {
      std::printf("%.*s %s (gRPC %s)\n", static_cast<int>(kName.size()), kName.data(),
                  LLMGATE_VERSION, grpc::Version().c_str());
      return kExitOk;
    }
    if (hasFlagName(arg, "--config") || hasFlagName(arg, "--listen")) {
      const std::string_view flag = arg.substr(0, arg.find('='));
      std::optional<std::string> value = flagValue(arg, flag, i, argc, argv);
      if (!value || value->empty()) {
        printUsageError(std::string(flag) + " needs a value");
        return kExitUsage;
      }
      if (flag == "--config") {
        options.config_path = std::move(*value);
      } else {
        options.listen = std::move(*value);
      }
      continue;
    }
    if (arg.starts_with("-")) {
      printUsageError("unknown flag '" + std::string(arg) + "'");
    } else {
      printUsageError("unexpected argument '" + std::string(arg) + "'");
    }
    return kExitUsage;
  }
  return std::nullopt;
}

int startupError(const std::string& message) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(kName.size()), kName.data(), message.c_str());
  return kExitFailure;
}

int run(const Options& options) {
  namespace config = llmgate::config;
  namespace service = llmgate::control::service;
  config::ControlConfig control_config;
  if (options.config_path) {
    absl::StatusOr<config::ControlConfig> loaded =
        config::loadControlConfigFile(*options.config_path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "%.*s: invalid config:\n%s\n", static_cast<int>(kName.size()),
                   kName.data(), std::string(loaded.status().message()).c_str());
      return kExitFailure;
    }
    control_config = std::move(*loaded);
  } else {
    control_config.admin_token = []() -> std::optional<config::Secret> {
      const char* value = std::getenv("LLMGATE_ADMIN_TOKEN");
      if (value == nullptr || *value == '\0') return std::nullopt;
      return config::Secret{"LLMGATE_ADMIN_TOKEN", value};
    }();
  }
  if (options.listen) control_config.listen = *options.listen;
  if (!control_config.admin_token) {
    llmgate::log::warn("admin token variable ", control_config.admin_token_env,
                       " is not set: every Admin call will be refused");
  }
  const service::TokenChecker admin_token(
      control_config.admin_token ? std::optional(control_config.admin_token->value) : std::nullopt);
  std::optional<service::TokenChecker> node_token;
  if (!control_config.node_token_env.empty()) {
    if (!control_config.node_token) {
      std::fprintf(stderr, "%.*s: node_token_env %s is not set\n", static_cast<int>(kName.size()),
                   kName.data(), control_config.node_token_env.c_str());
      return kExitFailure;
    }
    node_token.emplace(control_config.node_token->value);
  }

  namespace http = llmgate::control::http;
  // TLS material is read (and checked) before anything listens.
  std::shared_ptr<grpc::ServerCredentials> grpc_credentials = grpc::InsecureServerCredentials();
  if (control_config.tls) {
    absl::StatusOr<http::PemFiles> pem = http::readPemFiles(*control_config.tls);
    if (!pem.ok())
      return startupError(llmgate::strCat("tls.", std::string(pem.status().message())));
    // Client certificates are required and verified against tls.ca_file.
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = pem->ca;
    ssl.pem_key_cert_pairs.push_back({pem->private_key, pem->cert_chain});
    grpc_credentials = grpc::SslServerCredentials(ssl);
  }
  std::shared_ptr<boost::asio::ssl::context> webhook_tls;
  http::PemFiles webhook_pem;
  if (control_config.webhook_tls) {
    absl::StatusOr<http::PemFiles> pem = http::readPemFiles(*control_config.webhook_tls);
    if (!pem.ok())
      return startupError(llmgate::strCat("webhook_tls.", std::string(pem.status().message())));
    absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> context =
        http::makeServerTlsContext(*pem);
    if (!context.ok())
      return startupError(llmgate::strCat("webhook_tls.", std::string(context.status().message())));
    webhook_tls = std::move(*context);
    webhook_pem = std::move(*pem);
  }

  service::Controller controller(control_config, llmgate::time::RealClock::instance());
  http::DecisionCounter decision_counter;
  controller.watch(&decision_counter, {});
  llmgate::control::webhook::WebhookStats webhook_stats;
  http::ControlMetrics metrics(controller, decision_counter, webhook_stats);
  http::Readiness readiness;
  if (absl::Status status = controller.start(); !status.ok()) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(kName.size()), kName.data(),
                 std::string(status.message()).c_str());
    return kExitFailure;
  }
  const service::TokenChecker* node_checker = node_token ? &*node_token : nullptr;
  service::RouteDiscoveryService route_discovery(controller, node_checker);
  service::TelemetryService telemetry(controller, node_checker);
  service::AdminService admin(controller, admin_token);

  // Block the stop signals before gRPC starts its threads (they inherit the
  // mask), so that only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(control_config.listen, grpc_credentials, &selected_port);
  // Proxies ping the RouteDiscovery stream every control_plane.keepalive_time
  // even while no data flows (R33): accept that instead of the default 5 min
  // minimum (GOAWAY too_many_pings).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             static_cast<int>(control_config.min_client_ping_interval.count()));
  builder.RegisterService(&route_discovery);
  builder.RegisterService(&telemetry);
  builder.RegisterService(&admin);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    std::fprintf(stderr, "%.*s: cannot listen on %s\n", static_cast<int>(kName.size()),
                 kName.data(), control_config.listen.c_str());
    return kExitFailure;
  }
  std::printf(
      "%.*s %s: gRPC listening on %s (port %d%s): RouteDiscovery, Telemetry, Admin, "
      "health, reflection\n",
      static_cast<int>(kName.size()), kName.data(), LLMGATE_VERSION, control_config.listen.c_str(),
      selected_port, control_config.tls ? ", mTLS" : "");
  std::fflush(stdout);

  std::unique_ptr<http::HttpServer> admin_server;
  if (!control_config.admin_listen.empty()) {
    admin_server =
        std::make_unique<http::HttpServer>(http::HttpServerOptions{.name = "llmgate-control-admin"},
                                           http::adminHandler(readiness, metrics));
    if (absl::Status status = admin_server->listen(control_config.admin_listen); !status.ok()) {
      server->Shutdown();
      return startupError(std::string(status.message()));
    }
    admin_server->start();
    std::printf("%.*s: admin listening on %s (port %d): /healthz /readyz /metrics\n",
                static_cast<int>(kName.size()), kName.data(), control_config.admin_listen.c_str(),
                static_cast<int>(admin_server->localEndpoint().port()));
  }
  std::unique_ptr<http::HttpServer> webhook_server;
  if (webhook_tls) {
    webhook_server = std::make_unique<http::HttpServer>(
        http::HttpServerOptions{.name = "llmgate-control-webhook", .body_limit = 4u << 20},
        http::webhookHandler(control_config.injection, webhook_stats), webhook_tls);
    if (absl::Status status = webhook_server->listen(control_config.webhook_listen); !status.ok()) {
      server->Shutdown();
      return startupError(std::string(status.message()));
    }
    webhook_server->start();
    std::printf("%.*s: webhook listening on %s (port %d, HTTPS): POST /mutate\n",
                static_cast<int>(kName.size()), kName.data(), control_config.webhook_listen.c_str(),
                static_cast<int>(webhook_server->localEndpoint().port()));
  } else {
    llmgate::log::info("webhook_tls is not set: the injection webhook is off");
  }
  // A renewed webhook certificate (cert-manager rewrites the Secret) is
  // picked up by the policy loop's thread, every evaluate_every.
  std::optional<http::TlsReloader> webhook_reloader;
  if (webhook_server) {
    webhook_reloader.emplace(*control_config.webhook_tls, std::move(webhook_pem),
                             [&webhook_server](std::shared_ptr<boost::asio::ssl::context> tls) {
                               webhook_server->setTlsContext(std::move(tls));
                             });
  }
  readiness.ready = true;
  std::fflush(stdout);

  // metrics_source prometheus: the fleet's numbers come from its HTTP API.
  std::unique_ptr<llmgate::control::metrics::PrometheusSource> prometheus_source;
  if (control_config.metrics_source.kind == "prometheus") {
    namespace metrics = llmgate::control::metrics;
    const auto timeout =
        std::min<std::chrono::milliseconds>(control_config.evaluate_every, std::chrono::seconds(5));
    absl::StatusOr<metrics::PrometheusClient> client =
        metrics::PrometheusClient::create(control_config.metrics_source.url, timeout);
    if (!client.ok()) {
      std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(kName.size()), kName.data(),
                   std::string(client.status().message()).c_str());
      return kExitFailure;
    }
    prometheus_source = std::make_unique<metrics::PrometheusSource>(
        std::move(*client), control_config.evaluate_every,
        [&controller](const llmgate::control::v1::TelemetryReport& report) {
          llmgate::control::v1::ReportAck ack;
          controller.ingest("prometheus", report, &ack);
          if (ack.rejected_targets() > 0) {
            llmgate::log::warn("metrics_source prometheus: ", ack.rejected_targets(),
                               " entries refused: ", ack.message());
          }
        });
    prometheus_source->start();
  }

  // The policy loop.
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::thread policy_loop([&] {
    std::unique_lock lock(stop_mu);
    while (!stop_cv.wait_for(lock, control_config.evaluate_every, [&] { return stopping; })) {
      lock.unlock();
      controller.tick();
      if (webhook_reloader) webhook_reloader->poll();
      lock.lock();
    }
  });

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::printf("%.*s: signal %d, shutting down\n", static_cast<int>(kName.size()), kName.data(),
              signal_number);
  std::fflush(stdout);
  readiness.draining = true;
  if (webhook_server) webhook_server->drain(std::chrono::seconds(2));
  {
    std::lock_guard lock(stop_mu);
    stopping = true;
  }
  stop_cv.notify_all();
  policy_loop.join();
  if (prometheus_source) prometheus_source->stop();
  // A gpr deadline keeps wall-clock reads out of this file (scripts/lint).
  server->Shutdown(gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                gpr_time_from_seconds(kShutdownGraceSeconds, GPR_TIMESPAN)));
  server->Wait();
  if (admin_server) admin_server->stop();
  controller.unwatch(&decision_counter);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (std::optional<int> exit_code = parseArgs(argc, argv, options)) return *exit_code;
  return run(options);
}

// llmgate-control: the control plane (../shared/DESIGN.md, "Control plane").
//
// For now a gRPC server with only the standard grpc.health.v1 service and
// server reflection, so that deployment, probes and grpcurl can be wired up.
// RouteDiscovery, Telemetry and Admin come with the control-plane issue, and
// so does reading --config (the control config loader lives in common/config/).
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kName = "llmgate-control";
constexpr std::string_view kDefaultListen = "0.0.0.0:50051";
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

Status: this build serves only the standard grpc.health.v1 health service and
gRPC server reflection (for grpcurl and Kubernetes gRPC probes). The
RouteDiscovery, Telemetry and Admin services, and reading --config, come with
the control-plane issue. Stops on SIGINT or SIGTERM.
)";

struct Options {
  std::optional<std::string> config_path;
  std::string listen{kDefaultListen};
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

int run(const Options& options) {
  if (options.config_path) {
    if (!std::ifstream(*options.config_path)) {
      std::fprintf(stderr, "%.*s: cannot read config file '%s'\n", static_cast<int>(kName.size()),
                   kName.data(), options.config_path->c_str());
      return kExitFailure;
    }
    std::fprintf(stderr, "%.*s: note: --config is not read yet (control-plane issue); using %s\n",
                 static_cast<int>(kName.size()), kName.data(), options.listen.c_str());
  }

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
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &selected_port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    std::fprintf(stderr, "%.*s: cannot listen on %s\n", static_cast<int>(kName.size()),
                 kName.data(), options.listen.c_str());
    return kExitFailure;
  }
  std::printf("%.*s %s: gRPC listening on %s (port %d): health, reflection\n",
              static_cast<int>(kName.size()), kName.data(), LLMGATE_VERSION, options.listen.c_str(),
              selected_port);
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::printf("%.*s: signal %d, shutting down\n", static_cast<int>(kName.size()), kName.data(),
              signal_number);
  std::fflush(stdout);
  // A gpr deadline keeps wall-clock reads out of this file (scripts/lint).
  server->Shutdown(gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                gpr_time_from_seconds(kShutdownGraceSeconds, GPR_TIMESPAN)));
  server->Wait();
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (std::optional<int> exit_code = parseArgs(argc, argv, options)) return *exit_code;
  return run(options);
}

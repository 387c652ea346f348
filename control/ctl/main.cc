// llmgatectl: admin CLI over llmgate-control's gRPC Admin service
// (../shared/DESIGN.md, "Control plane"; proto/llmgate/control/v1/admin.proto).
//
// For now it knows its command line only: every sub-command is recognized and
// reports that it is not implemented yet. The calls come with the
// control-plane issue.
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view kName = "llmgatectl";

// Exit codes: 0 done, 1 the command failed, 2 bad command line.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kHelp =
    R"(Usage: llmgatectl [--server HOST:PORT] [--token-file FILE] [--json] COMMAND [ARGS]

Admin CLI for llmgate-control (gRPC service llmgate.control.v1.Admin).

Commands:
  status                       route table version, connected proxies and the
                               version each one has ACKed
  targets                      every model with fleet p50/p95 latency, TTFT p95,
                               error rate, samples and health
  routes                       the route table the control plane publishes
  thresholds get [MODEL]       policy thresholds in force
  thresholds set MODEL [--p95-latency-max DUR] [--ttft-p95-max DUR]
                 [--error-rate-max RATE] [--min-samples N] [--shift-to MODEL]
                 [--shift-for DUR] [--probe-percent PCT]
                               replace the policy of MODEL
  override shift MODEL --to MODEL [--weight W] [--for DUR] [--reason TEXT]
                               move a share of MODEL's traffic to another model
  override pin SUBJECT --to MODEL [--for DUR] [--reason TEXT]
                               send every request for a model or alias to MODEL
  override drain MODEL [--for DUR] [--reason TEXT]
                               stop sending new requests to MODEL
  override clear ID|SUBJECT    remove an override, or all overrides of a subject
  watch [SUBJECT...] [--replay N]
                               stream the control plane's decisions

Global flags (before or after the command):
  --server HOST:PORT   control plane address (default: 127.0.0.1:50051)
  --token-file FILE    read the admin token from FILE (default: the
                       LLMGATE_ADMIN_TOKEN environment variable)
  --json               print JSON instead of tables
  -h, --help           print this help and exit
  --version            print the version and exit

Exit status: 0 success, 1 the command failed, 2 bad command line.
)";

struct Options {
  std::string server = "127.0.0.1:50051";
  std::optional<std::string> token_file;
  bool json = false;
  // The sub-command and its own arguments (flags included), in order.
  std::vector<std::string> command;
};

void printUsageError(std::string_view message) {
  std::fprintf(stderr, "%.*s: %.*s (see --help)\n", static_cast<int>(kName.size()), kName.data(),
               static_cast<int>(message.size()), message.data());
}

bool hasFlagName(std::string_view arg, std::string_view flag) {
  return arg == flag ||
         (arg.size() > flag.size() && arg.starts_with(flag) && arg[flag.size()] == '=');
}

// Returns an exit code when the process should stop right away (help,
// version, usage error), nullopt to run the command.
std::optional<int> parseArgs(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fwrite(kHelp.data(), 1, kHelp.size(), stdout);
      return kExitOk;
    }
    if (arg == "--version") {
      std::printf("%.*s %s\n", static_cast<int>(kName.size()), kName.data(), LLMGATE_VERSION);
      return kExitOk;
    }
    if (arg == "--json") {
      options.json = true;
      continue;
    }
    if (hasFlagName(arg, "--server") || hasFlagName(arg, "--token-file")) {
      const std::string_view flag = arg.substr(0, arg.find('='));
      std::string value;
      if (arg.size() > flag.size()) {
        value = std::string(arg.substr(flag.size() + 1));
      } else if (i + 1 < argc) {
        value = argv[++i];
      }
      if (value.empty()) {
        printUsageError(std::string(flag) + " needs a value");
        return kExitUsage;
      }
      if (flag == "--server") {
        options.server = std::move(value);
      } else {
        options.token_file = std::move(value);
      }
      continue;
    }
    // Before the command every flag must be a global one; after it, other
    // flags (--to, --weight, ...) belong to the command.
    if (arg.starts_with("-") && options.command.empty()) {
      printUsageError("unknown flag '" + std::string(arg) + "'");
      return kExitUsage;
    }
    options.command.emplace_back(arg);
  }
  return std::nullopt;
}

struct Command {
  std::string_view name;
  // Sub-commands that must follow `name`; empty when it takes none.
  std::vector<std::string_view> actions;
};

const std::vector<Command>& commands() {
  static const auto* const kCommands = new std::vector<Command>{
      {"status", {}},
      {"targets", {}},
      {"routes", {}},
      {"thresholds", {"get", "set"}},
      {"override", {"shift", "pin", "drain", "clear"}},
      {"watch", {}},
  };
  return *kCommands;
}

std::string joinActions(const Command& command) {
  std::string list;
  for (std::string_view action : command.actions) {
    if (!list.empty()) list += ", ";
    list += action;
  }
  return list;
}

int run(const Options& options) {
  if (options.command.empty()) {
    printUsageError("missing command");
    return kExitUsage;
  }
  const std::string& name = options.command[0];
  for (const Command& command : commands()) {
    if (command.name != name) continue;
    std::string full = name;
    if (!command.actions.empty()) {
      if (options.command.size() < 2) {
        printUsageError("'" + name + "' needs one of: " + joinActions(command));
        return kExitUsage;
      }
      const std::string& action = options.command[1];
      bool known = false;
      for (std::string_view candidate : command.actions) known = known || candidate == action;
      if (!known) {
        printUsageError("unknown command '" + name + " " + action + "'");
        return kExitUsage;
      }
      full += " " + action;
    }
    std::fprintf(stderr, "%.*s: %s: not implemented yet\n", static_cast<int>(kName.size()),
                 kName.data(), full.c_str());
    return kExitFailure;
  }
  printUsageError("unknown command '" + name + "'");
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (std::optional<int> exit_code = parseArgs(argc, argv, options)) return *exit_code;
  return run(options);
}

// llmgatectl: admin CLI over llmgate-control's gRPC Admin service
// (../shared/DESIGN.md, "Control plane"; proto/llmgate/control/v1/admin.proto).
//
// Each sub-command is one Admin call (watch: a stream until interrupted);
// output is a table, or the response proto as JSON with --json.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/units.h"
#include "common/time/clock.h"
#include "control/ctl/route_text.h"
#include "llmgate/control/v1/admin.grpc.pb.h"

namespace {

namespace v1 = llmgate::control::v1;

constexpr std::string_view kName = "llmgatectl";

// Exit codes: 0 done, 1 the command failed, 2 bad command line.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kHelp =
    R"(Usage: llmgatectl [--server HOST:PORT] [--token-file FILE] [--json] [TLS FLAGS] COMMAND [ARGS]

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
  --ca-file FILE       connect with TLS, verifying the server against this
                       CA (PEM); needed when llmgate-control sets tls:
  --cert-file FILE     client certificate (PEM) for mTLS, with --key-file
  --key-file FILE      client private key (PEM)
  --tls-server-name N  the name to verify in the server certificate
                       (default: the host of --server)
  -h, --help           print this help and exit
  --version            print the version and exit

Exit status: 0 success, 1 the command failed, 2 bad command line.
)";

struct Options {
  std::string server = "127.0.0.1:50051";
  std::optional<std::string> token_file;
  std::optional<std::string> ca_file;
  std::optional<std::string> cert_file;
  std::optional<std::string> key_file;
  std::optional<std::string> tls_server_name;
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
    if (hasFlagName(arg, "--server") || hasFlagName(arg, "--token-file") ||
        hasFlagName(arg, "--ca-file") || hasFlagName(arg, "--cert-file") ||
        hasFlagName(arg, "--key-file") || hasFlagName(arg, "--tls-server-name")) {
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
      } else if (flag == "--token-file") {
        options.token_file = std::move(value);
      } else if (flag == "--ca-file") {
        options.ca_file = std::move(value);
      } else if (flag == "--cert-file") {
        options.cert_file = std::move(value);
      } else if (flag == "--key-file") {
        options.key_file = std::move(value);
      } else {
        options.tls_server_name = std::move(value);
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

constexpr auto kCallTimeout = std::chrono::seconds(10);

// Thrown-free argument cursor over a command's own words and flags.
struct Args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> flags;  // --name value
  std::optional<std::string> error;

  std::optional<std::string> flag(std::string_view name) const {
    for (const auto& [key, value] : flags) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
};

// Splits the words after the command into positionals and --flag value pairs;
// `known` lists the flags the command takes.
Args splitArgs(const std::vector<std::string>& words, std::size_t from,
               const std::vector<std::string_view>& known) {
  Args args;
  for (std::size_t i = from; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (!word.starts_with("--")) {
      args.positional.push_back(word);
      continue;
    }
    std::string name = word.substr(0, word.find('='));
    bool is_known = false;
    for (std::string_view k : known) is_known = is_known || k == name;
    if (!is_known) {
      args.error = "unknown flag '" + word + "'";
      return args;
    }
    std::string value;
    if (word.size() > name.size()) {
      value = word.substr(name.size() + 1);
    } else if (i + 1 < words.size()) {
      value = words[++i];
    } else {
      args.error = name + " needs a value";
      return args;
    }
    args.flags.emplace_back(name, value);
  }
  return args;
}

std::optional<std::string> readToken(const Options& options, std::string* error) {
  if (options.token_file) {
    std::ifstream in(*options.token_file);
    if (!in) {
      *error = "cannot read --token-file " + *options.token_file;
      return std::nullopt;
    }
    std::string token;
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) {
      *error = "--token-file " + *options.token_file + " is empty";
      return std::nullopt;
    }
    return token;
  }
  const char* env = std::getenv("LLMGATE_ADMIN_TOKEN");
  if (env == nullptr || *env == '\0') {
    *error = "no admin token: set LLMGATE_ADMIN_TOKEN or pass --token-file";
    return std::nullopt;
  }
  return std::string(env);
}

std::optional<std::string> readPem(const std::string& flag, const std::string& path,
                                   std::string* error) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  if (in) content << in.rdbuf();
  if (!in || content.str().empty()) {
    *error = "cannot read " + flag + " " + path;
    return std::nullopt;
  }
  return content.str();
}

// Plain text by default; TLS (and mTLS with a client certificate) when any
// TLS flag is given.
std::shared_ptr<grpc::Channel> makeChannel(const Options& options, std::string* error) {
  const bool tls = options.ca_file || options.cert_file || options.key_file;
  if (!tls) {
    return grpc::CreateChannel(options.server, grpc::InsecureChannelCredentials());
  }
  if (options.cert_file.has_value() != options.key_file.has_value()) {
    *error = "--cert-file and --key-file go together";
    return nullptr;
  }
  grpc::SslCredentialsOptions ssl;
  if (options.ca_file) {
    std::optional<std::string> ca = readPem("--ca-file", *options.ca_file, error);
    if (!ca) return nullptr;
    ssl.pem_root_certs = std::move(*ca);
  }
  if (options.cert_file) {
    std::optional<std::string> cert = readPem("--cert-file", *options.cert_file, error);
    std::optional<std::string> key =
        cert ? readPem("--key-file", *options.key_file, error) : std::nullopt;
    if (!cert || !key) return nullptr;
    ssl.pem_cert_chain = std::move(*cert);
    ssl.pem_private_key = std::move(*key);
  }
  grpc::ChannelArguments args;
  if (options.tls_server_name) args.SetSslTargetNameOverride(*options.tls_server_name);
  return grpc::CreateCustomChannel(options.server, grpc::SslCredentials(ssl), args);
}

std::string toJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, print);
  return out;
}

std::string formatDuration(const google::protobuf::Duration& d, bool set) {
  if (!set) return "-";
  const double seconds = static_cast<double>(d.seconds()) + d.nanos() / 1e9;
  char buf[32];
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%.0fms", seconds * 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fs", seconds);
  }
  return buf;
}

std::string formatTime(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(t.seconds());
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string describeOverride(const v1::Override& o) {
  std::string action;
  if (o.has_shift()) {
    char weight[16];
    std::snprintf(weight, sizeof weight, "%.2f", o.shift().weight());
    action = "shift -> " + o.shift().to() + " (weight " + weight + ")";
  } else if (o.has_pin()) {
    action = "pin -> " + o.pin().to();
  } else if (o.has_drain()) {
    action = "drain";
  }
  return action;
}

const char* originName(v1::Override::Origin origin) {
  switch (origin) {
    case v1::Override::ORIGIN_OPERATOR:
      return "operator";
    case v1::Override::ORIGIN_POLICY:
      return "policy";
    default:
      return "-";
  }
}

void printOverrides(const google::protobuf::RepeatedPtrField<v1::Override>& overrides) {
  if (overrides.empty()) {
    std::printf("overrides: none\n");
    return;
  }
  std::printf("%-14s %-20s %-38s %-9s %-21s %s\n", "ID", "SUBJECT", "ACTION", "ORIGIN", "EXPIRES",
              "REASON");
  for (const v1::Override& o : overrides) {
    std::printf("%-14s %-20s %-38s %-9s %-21s %s\n", o.id().c_str(), o.subject().c_str(),
                describeOverride(o).c_str(), originName(o.origin()),
                o.has_expires_at() ? formatTime(o.expires_at()).c_str() : "never",
                o.reason().c_str());
  }
}

int callFailed(std::string_view what, const grpc::Status& status) {
  std::fprintf(stderr, "%.*s: %.*s: %s (%d): %s\n", static_cast<int>(kName.size()), kName.data(),
               static_cast<int>(what.size()), what.data(),
               status.error_code() == grpc::StatusCode::UNAUTHENTICATED ? "unauthenticated"
               : status.error_code() == grpc::StatusCode::UNAVAILABLE   ? "unavailable"
                                                                        : "failed",
               static_cast<int>(status.error_code()), status.error_message().c_str());
  return kExitFailure;
}

class Cli {
 public:
  Cli(const Options& options, std::string token, std::shared_ptr<grpc::Channel> channel)
      : options_(options), token_(std::move(token)), stub_(v1::Admin::NewStub(channel)) {}

  void prepare(grpc::ClientContext& context, bool deadline = true) const {
    context.AddMetadata("authorization", "Bearer " + token_);
    if (deadline) context.set_deadline(llmgate::time::systemNow() + kCallTimeout);
  }

  int print(const google::protobuf::Message& message) const {
    std::printf("%s", toJson(message).c_str());
    return kExitOk;
  }

  int status() {
    grpc::ClientContext context;
    prepare(context);
    v1::GetRouteTableResponse response;
    grpc::Status s = stub_->GetRouteTable(&context, v1::GetRouteTableRequest(), &response);
    if (!s.ok()) return callFailed("status", s);
    if (options_.json) return print(response);
    std::printf("route table version %s, %d models, %d routes, %d overrides, %d proxies\n",
                response.snapshot().version().c_str(), response.snapshot().models_size(),
                response.snapshot().routes_size(), response.snapshot().overrides_size(),
                response.nodes_size());
    if (response.nodes_size() > 0) {
      std::printf("%-30s %-10s %-10s %-21s %s\n", "NODE", "ACKED", "NACKED", "LAST REPORT",
                  "LAST ERROR");
      for (const v1::NodeStatus& node : response.nodes()) {
        std::printf("%-30s %-10s %-10s %-21s %s\n", node.node().id().c_str(),
                    node.acked_version().empty() ? "-" : node.acked_version().c_str(),
                    node.nacked_version().empty() ? "-" : node.nacked_version().c_str(),
                    formatTime(node.last_report_at()).c_str(), node.last_error().message().c_str());
      }
    }
    return kExitOk;
  }

  int targets() {
    grpc::ClientContext context;
    prepare(context);
    v1::ListTargetsResponse response;
    grpc::Status s = stub_->ListTargets(&context, v1::ListTargetsRequest(), &response);
    if (!s.ok()) return callFailed("targets", s);
    if (options_.json) return print(response);
    std::printf("window %s\n", formatDuration(response.window(), true).c_str());
    std::printf("%-22s %-14s %8s %8s %9s %9s %9s %9s %7s %6s %-9s\n", "MODEL", "PROVIDER",
                "SAMPLES", "RATE/S", "P50", "P95", "P99", "TTFT P95", "ERRORS", "NODES", "HEALTH");
    for (const v1::TargetStatus& t : response.targets()) {
      const char* health = t.health() == v1::TargetStatus::HEALTH_OK         ? "ok"
                           : t.health() == v1::TargetStatus::HEALTH_DEGRADED ? "degraded"
                                                                             : "unknown";
      std::printf("%-22s %-14s %8llu %8.2f %9s %9s %9s %9s %6.1f%% %6u %-9s%s\n", t.model().c_str(),
                  t.provider().c_str(), static_cast<unsigned long long>(t.samples()),
                  t.request_rate(), formatDuration(t.latency_p50(), t.has_latency_p50()).c_str(),
                  formatDuration(t.latency_p95(), t.has_latency_p95()).c_str(),
                  formatDuration(t.latency_p99(), t.has_latency_p99()).c_str(),
                  formatDuration(t.ttft_p95(), t.has_ttft_p95()).c_str(), t.error_rate() * 100,
                  t.reporting_nodes(), health, t.overrides_size() > 0 ? " (overridden)" : "");
    }
    return kExitOk;
  }

  int routes() {
    grpc::ClientContext context;
    prepare(context);
    v1::GetRouteTableResponse response;
    grpc::Status s = stub_->GetRouteTable(&context, v1::GetRouteTableRequest(), &response);
    if (!s.ok()) return callFailed("routes", s);
    if (options_.json) return print(response.snapshot());
    const v1::RouteSnapshot& table = response.snapshot();
    std::printf("version %s (built %s)\n\n", table.version().c_str(),
                formatTime(table.created_at()).c_str());
    std::printf("%-22s %-14s %-24s %s\n", "MODEL", "PROVIDER", "UPSTREAM", "FALLBACKS");
    for (const v1::Model& m : table.models()) {
      std::string fallbacks;
      for (const std::string& f : m.fallbacks()) fallbacks += (fallbacks.empty() ? "" : ", ") + f;
      std::printf("%-22s %-14s %-24s %s\n", m.name().c_str(), m.provider().c_str(),
                  m.upstream_model().c_str(), fallbacks.empty() ? "-" : fallbacks.c_str());
    }
    // One line per rule (numbered as in x-llmgate-route), then the default.
    std::printf("\n%-22s %s\n", "ROUTE", "RULES / DEFAULT");
    for (const v1::Route& r : table.routes()) {
      const char* name = r.name().c_str();
      for (int i = 0; i < r.rules_size(); ++i) {
        const std::string text = llmgate::control::ctl::ruleText(r.rules(i));
        std::printf("%-22s %d. %s\n", name, i + 1, text.c_str());
        name = "";
      }
      std::string defaults;
      for (const std::string& t : r.default_targets())
        defaults += (defaults.empty() ? "" : ",") + t;
      std::printf("%-22s default -> %s\n", name, defaults.empty() ? "-" : defaults.c_str());
    }
    std::printf("\n");
    printOverrides(table.overrides());
    return kExitOk;
  }

  int thresholdsGet(const Args& args) {
    if (args.positional.size() > 1) return usage("thresholds get takes at most one MODEL");
    grpc::ClientContext context;
    prepare(context);
    v1::GetThresholdsRequest request;
    if (!args.positional.empty()) request.set_model(args.positional[0]);
    v1::GetThresholdsResponse response;
    grpc::Status s = stub_->GetThresholds(&context, request, &response);
    if (!s.ok()) return callFailed("thresholds get", s);
    if (options_.json) return print(response);
    std::printf("window %s, evaluated every %s\n", formatDuration(response.window(), true).c_str(),
                formatDuration(response.evaluate_every(), true).c_str());
    std::printf("%-22s %9s %9s %8s %8s %-22s %9s %6s\n", "MODEL", "P95 MAX", "TTFT MAX", "ERR MAX",
                "MIN", "SHIFT TO", "FOR", "PROBE");
    for (const v1::Policy& p : response.policies()) {
      char err[16] = "-";
      if (p.has_error_rate_max()) std::snprintf(err, sizeof err, "%.3f", p.error_rate_max());
      std::printf("%-22s %9s %9s %8s %8llu %-22s %9s %5.1f%%\n", p.model().c_str(),
                  formatDuration(p.p95_latency_max(), p.has_p95_latency_max()).c_str(),
                  formatDuration(p.ttft_p95_max(), p.has_ttft_p95_max()).c_str(), err,
                  static_cast<unsigned long long>(p.min_samples()), p.shift_to().c_str(),
                  formatDuration(p.shift_for(), p.has_shift_for()).c_str(), p.probe_percent());
    }
    return kExitOk;
  }

  int thresholdsSet(const Args& args) {
    if (args.positional.size() != 1) return usage("thresholds set needs exactly one MODEL");
    v1::SetThresholdsRequest request;
    v1::Policy& policy = *request.mutable_policy();
    policy.set_model(args.positional[0]);
    for (const auto& [flag, value] : args.flags) {
      if (flag == "--remove") {
        if (value != "true") return usage("--remove takes no value other than true");
        request.set_remove(true);
      } else if (flag == "--p95-latency-max" || flag == "--ttft-p95-max" || flag == "--shift-for") {
        std::optional<google::protobuf::Duration> d = duration(flag, value);
        if (!d) return kExitUsage;
        if (flag == "--p95-latency-max") *policy.mutable_p95_latency_max() = *d;
        if (flag == "--ttft-p95-max") *policy.mutable_ttft_p95_max() = *d;
        if (flag == "--shift-for") *policy.mutable_shift_for() = *d;
      } else if (flag == "--error-rate-max" || flag == "--probe-percent") {
        std::optional<double> n = number(flag, value);
        if (!n) return kExitUsage;
        if (flag == "--error-rate-max") policy.set_error_rate_max(*n);
        if (flag == "--probe-percent") policy.set_probe_percent(*n);
      } else if (flag == "--min-samples") {
        std::optional<double> n = number(flag, value);
        if (!n || *n < 0) return kExitUsage;
        policy.set_min_samples(static_cast<std::uint64_t>(*n));
      } else if (flag == "--shift-to") {
        policy.set_shift_to(value);
      }
    }
    grpc::ClientContext context;
    prepare(context);
    v1::SetThresholdsResponse response;
    grpc::Status s = stub_->SetThresholds(&context, request, &response);
    if (!s.ok()) return callFailed("thresholds set", s);
    if (options_.json) return print(response);
    std::printf(request.remove() ? "policy of %s removed\n" : "policy of %s set\n",
                policy.model().c_str());
    return kExitOk;
  }

  int overrideSet(const std::string& action, const Args& args) {
    if (args.positional.size() != 1) return usage("override " + action + " needs one SUBJECT");
    v1::SetOverrideRequest request;
    v1::Override& item = *request.mutable_override();
    item.set_subject(args.positional[0]);
    std::optional<std::string> to = args.flag("--to");
    if (action == "shift") {
      if (!to) return usage("override shift needs --to MODEL");
      item.mutable_shift()->set_to(*to);
      item.mutable_shift()->set_weight(1);
      if (std::optional<std::string> w = args.flag("--weight")) {
        std::optional<double> weight = number("--weight", *w);
        if (!weight) return kExitUsage;
        item.mutable_shift()->set_weight(*weight);
      }
    } else if (action == "pin") {
      if (!to) return usage("override pin needs --to MODEL");
      item.mutable_pin()->set_to(*to);
    } else {
      item.mutable_drain();
    }
    if (std::optional<std::string> f = args.flag("--for")) {
      std::optional<google::protobuf::Duration> d = duration("--for", *f);
      if (!d) return kExitUsage;
      *request.mutable_ttl() = *d;
    }
    if (std::optional<std::string> reason = args.flag("--reason")) item.set_reason(*reason);
    grpc::ClientContext context;
    prepare(context);
    v1::SetOverrideResponse response;
    grpc::Status s = stub_->SetOverride(&context, request, &response);
    if (!s.ok()) return callFailed("override " + action, s);
    if (options_.json) return print(response);
    std::printf("override %s set: %s %s, route table version %s\n",
                response.override().id().c_str(), response.override().subject().c_str(),
                describeOverride(response.override()).c_str(), response.route_version().c_str());
    return kExitOk;
  }

  int overrideClear(const Args& args) {
    if (args.positional.size() != 1) return usage("override clear needs one ID or SUBJECT");
    v1::ClearOverrideRequest request;
    const std::string& what = args.positional[0];
    if (args.flag("--subject")) {
      request.set_subject(what);
    } else if (args.flag("--id") || isOverrideId(what)) {
      request.set_id(what);
    } else {
      request.set_subject(what);
    }
    grpc::ClientContext context;
    prepare(context);
    v1::ClearOverrideResponse response;
    grpc::Status s = stub_->ClearOverride(&context, request, &response);
    if (!s.ok()) return callFailed("override clear", s);
    if (options_.json) return print(response);
    std::printf("%d overrides cleared, route table version %s\n", response.cleared_size(),
                response.route_version().c_str());
    return kExitOk;
  }

  int watch(const Args& args) {
    v1::WatchDecisionsRequest request;
    for (const std::string& subject : args.positional) request.add_subjects(subject);
    if (std::optional<std::string> replay = args.flag("--replay")) {
      std::optional<double> n = number("--replay", *replay);
      if (!n || *n < 0) return kExitUsage;
      request.set_replay(static_cast<std::uint32_t>(*n));
    }
    grpc::ClientContext context;
    prepare(context, /*deadline=*/false);
    std::unique_ptr<grpc::ClientReader<v1::Decision>> reader =
        stub_->WatchDecisions(&context, request);
    v1::Decision decision;
    while (reader->Read(&decision)) {
      if (options_.json) {
        std::string line;
        (void)google::protobuf::util::MessageToJsonString(decision, &line);
        std::printf("%s\n", line.c_str());
      } else {
        std::string kind = v1::Decision::Kind_Name(decision.kind());
        if (kind.starts_with("KIND_")) kind = kind.substr(5);
        std::printf("%s %-18s %-20s v%-6s %s\n", formatTime(decision.at()).c_str(), kind.c_str(),
                    decision.subject().empty() ? "-" : decision.subject().c_str(),
                    decision.route_version().c_str(), decision.reason().c_str());
      }
      std::fflush(stdout);
    }
    grpc::Status s = reader->Finish();
    if (!s.ok()) return callFailed("watch", s);
    return kExitOk;
  }

 private:
  static bool isOverrideId(const std::string& text) {
    // Server ids look like "o12-3".
    if (text.size() < 4 || text[0] != 'o') return false;
    const std::size_t dash = text.find('-');
    if (dash == std::string::npos || dash == 1 || dash + 1 == text.size()) return false;
    for (std::size_t i = 1; i < text.size(); ++i) {
      if (i != dash && (text[i] < '0' || text[i] > '9')) return false;
    }
    return true;
  }

  static int usage(const std::string& message) {
    printUsageError(message);
    return kExitUsage;
  }

  static std::optional<google::protobuf::Duration> duration(std::string_view flag,
                                                            const std::string& value) {
    absl::StatusOr<llmgate::config::Duration> d = llmgate::config::parseDuration(value);
    if (!d.ok() || d->count() <= 0) {
      printUsageError(std::string(flag) + ": expected a duration like 3s or 5m, got '" + value +
                      "'");
      return std::nullopt;
    }
    google::protobuf::Duration out;
    out.set_seconds(d->count() / 1000);
    out.set_nanos(static_cast<std::int32_t>(d->count() % 1000) * 1'000'000);
    return out;
  }

  static std::optional<double> number(std::string_view flag, const std::string& value) {
    char* end = nullptr;
    const double n = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(n)) {
      printUsageError(std::string(flag) + ": expected a number, got '" + value + "'");
      return std::nullopt;
    }
    return n;
  }

  const Options& options_;
  std::string token_;
  std::unique_ptr<v1::Admin::Stub> stub_;
};

int run(const Options& options) {
  if (options.command.empty()) {
    printUsageError("missing command");
    return kExitUsage;
  }
  const std::string& name = options.command[0];
  const Command* found = nullptr;
  for (const Command& command : commands()) {
    if (command.name == name) found = &command;
  }
  if (found == nullptr) {
    printUsageError("unknown command '" + name + "'");
    return kExitUsage;
  }
  std::string action;
  if (!found->actions.empty()) {
    if (options.command.size() < 2) {
      printUsageError("'" + name + "' needs one of: " + joinActions(*found));
      return kExitUsage;
    }
    action = options.command[1];
    bool known = false;
    for (std::string_view candidate : found->actions) known = known || candidate == action;
    if (!known) {
      printUsageError("unknown command '" + name + " " + action + "'");
      return kExitUsage;
    }
  }
  std::vector<std::string_view> flags;
  if (name == "thresholds" && action == "set") {
    flags = {"--p95-latency-max", "--ttft-p95-max", "--error-rate-max", "--min-samples",
             "--shift-to",        "--shift-for",    "--probe-percent",  "--remove"};
  } else if (name == "override" && action == "clear") {
    flags = {"--id", "--subject"};
  } else if (name == "override") {
    flags = {"--to", "--weight", "--for", "--reason"};
  } else if (name == "watch") {
    flags = {"--replay"};
  }
  // --remove, --id and --subject are switches: give them a value.
  std::vector<std::string> words = options.command;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "--remove" || words[i] == "--id" || words[i] == "--subject") {
      words[i] += "=true";
    }
  }
  Args args = splitArgs(words, action.empty() ? 1 : 2, flags);
  if (args.error) {
    printUsageError(*args.error);
    return kExitUsage;
  }
  if ((name == "status" || name == "targets" || name == "routes") && !args.positional.empty()) {
    printUsageError("'" + name + "' takes no arguments");
    return kExitUsage;
  }
  std::string token_error;
  std::optional<std::string> token = readToken(options, &token_error);
  if (!token) {
    printUsageError(token_error);
    return kExitUsage;
  }
  std::string channel_error;
  std::shared_ptr<grpc::Channel> channel = makeChannel(options, &channel_error);
  if (channel == nullptr) {
    printUsageError(channel_error);
    return kExitUsage;
  }
  Cli cli(options, *token, std::move(channel));
  if (name == "status") return cli.status();
  if (name == "targets") return cli.targets();
  if (name == "routes") return cli.routes();
  if (name == "thresholds")
    return action == "get" ? cli.thresholdsGet(args) : cli.thresholdsSet(args);
  if (name == "override")
    return action == "clear" ? cli.overrideClear(args) : cli.overrideSet(action, args);
  return cli.watch(args);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (std::optional<int> exit_code = parseArgs(argc, argv, options)) return *exit_code;
  return run(options);
}

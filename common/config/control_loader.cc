// The control-plane config loader. yaml-cpp throws; every call into it
// happens inside loadControlConfigString's try block. The routes file goes
// through the proxy loader's own models/routes validation.
#include "common/config/control_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "common/config/k8s_quantity.h"
#include "common/config/units.h"
#include "common/text/str_cat.h"

namespace llmgate::config {
namespace {

constexpr std::size_t kMaxFileBytes = 16u << 20;

std::string quote(std::string_view text) { return strCat("\"", text, "\""); }

std::string describe(const YAML::Node& node) {
  if (node.IsScalar()) return quote(node.Scalar());
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return "nothing";
}

absl::StatusOr<std::string> readFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return absl::NotFoundError(
        strCat(path, ": cannot open the ", what, ": ", std::strerror(error)));
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  if (text.size() > kMaxFileBytes) {
    return absl::InvalidArgumentError(strCat(path, ": larger than ", formatSize(kMaxFileBytes)));
  }
  return text;
}

bool isEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// A Kubernetes object name (RFC 1123 subdomain): lowercase alphanumerics,
// '-' and '.', starting and ending alphanumeric, at most 253 characters.
bool isDnsSubdomain(std::string_view name) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (name.empty() || name.size() > 253 || !alnum(name.front()) || !alnum(name.back())) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

class ControlLoader {
 public:
  ControlLoader(const EnvLookup& env, std::string_view base_dir) : env_(env), base_dir_(base_dir) {}

  std::vector<std::string>& problems() { return problems_; }

  void load(const YAML::Node& root, ControlConfig& out) {
    static constexpr std::array<std::string_view, 16> kKeys = {
        "listen",         "admin_listen",   "webhook_listen", "admin_token_env",
        "node_token_env", "state_file",     "routes_file",    "metrics_source",
        "window",         "evaluate_every", "policies",       "tls",
        "webhook_tls",    "injection",      "logging",        "min_client_ping_interval"};
    if (root.IsNull()) return;
    if (!root.IsMap()) {
      problem("config", strCat("expected a map, got ", describe(root)));
      return;
    }
    std::vector<std::string> seen;
    for (const auto& entry : root) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      if (key.starts_with("x-")) continue;
      if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
        problem(key.empty() ? "config" : key, "unknown key");
        continue;
      }
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        problem(key, "duplicate key");
        continue;
      }
      seen.push_back(key);
    }
    if (auto v = text(root["listen"], "listen")) out.listen = *v;
    if (auto v = text(root["admin_listen"], "admin_listen")) out.admin_listen = *v;
    if (auto v = envName(root["admin_token_env"], "admin_token_env")) out.admin_token_env = *v;
    if (auto v = envName(root["node_token_env"], "node_token_env")) out.node_token_env = *v;
    if (auto v = path(root["state_file"], "state_file")) out.state_file = *v;
    if (auto v = path(root["routes_file"], "routes_file")) out.routes_file = *v;
    if (auto v = duration(root["window"], "window")) out.window = *v;
    if (auto v = duration(root["evaluate_every"], "evaluate_every")) out.evaluate_every = *v;
    if (out.evaluate_every > out.window) {
      problem("evaluate_every", "must not exceed window");
    }
    if (auto v = duration(root["min_client_ping_interval"], "min_client_ping_interval")) {
      out.min_client_ping_interval = *v;
    }
    metricsSource(root["metrics_source"], out.metrics_source);
    if (auto v = text(root["webhook_listen"], "webhook_listen")) out.webhook_listen = *v;
    out.tls = tlsFiles(root["tls"], "tls", true);
    out.webhook_tls = tlsFiles(root["webhook_tls"], "webhook_tls", false);
    injection(root["injection"], out.injection);
    out.admin_token = secret(out.admin_token_env);
    if (!out.node_token_env.empty()) out.node_token = secret(out.node_token_env);

    if (!out.routes_file.empty()) {
      absl::StatusOr<std::string> content = readFile(out.routes_file, "routes file");
      if (!content.ok()) {
        problem("routes_file", std::string(content.status().message()));
      } else {
        absl::StatusOr<ModelsAndRoutes> loaded =
            loadModelsAndRoutesString(*content, out.routes_file);
        if (!loaded.ok()) {
          std::istringstream lines{std::string(loaded.status().message())};
          for (std::string line; std::getline(lines, line);) {
            problem(strCat("routes_file (", out.routes_file, ")"), line);
          }
        } else {
          out.models = std::move(loaded->models);
          out.routes = std::move(loaded->routes);
        }
      }
    }
    policies(root["policies"], out);
  }

 private:
  void problem(std::string_view path, std::string_view message) {
    problems_.push_back(strCat(path, ": ", message));
  }

  std::optional<std::string> text(const YAML::Node& node, std::string_view path) {
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    if (!node.IsScalar()) {
      problem(path, strCat("expected a string, got ", describe(node)));
      return std::nullopt;
    }
    return node.Scalar();
  }
  std::optional<std::string> envName(const YAML::Node& node, std::string_view path) {
    std::optional<std::string> value = text(node, path);
    if (value && !isEnvName(*value)) {
      problem(path, strCat("expected an environment variable name, got ", quote(*value)));
      return std::nullopt;
    }
    return value;
  }
  std::optional<std::string> path(const YAML::Node& node, std::string_view key) {
    std::optional<std::string> value = text(node, key);
    if (!value) return std::nullopt;
    if (value->empty()) {
      problem(key, "must not be empty");
      return std::nullopt;
    }
    std::filesystem::path p(*value);
    if (p.is_relative()) p = base_dir_ / p;
    return p.lexically_normal().string();
  }
  std::optional<Duration> duration(const YAML::Node& node, std::string_view path) {
    std::optional<std::string> value = text(node, path);
    if (!value) return std::nullopt;
    absl::StatusOr<Duration> parsed = parseDuration(*value);
    if (!parsed.ok()) {
      problem(path, std::string(parsed.status().message()));
      return std::nullopt;
    }
    if (parsed->count() <= 0) {
      problem(path, strCat("must be greater than 0, got ", quote(*value)));
      return std::nullopt;
    }
    return *parsed;
  }
  std::optional<double> number(const YAML::Node& node, std::string_view path, double min,
                               double max) {
    std::optional<std::string> value = text(node, path);
    if (!value) return std::nullopt;
    double parsed = 0;
    std::size_t used = 0;
    try {
      parsed = std::stod(*value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != value->size() || value->empty() || !std::isfinite(parsed)) {
      problem(path, strCat("expected a number, got ", quote(*value)));
      return std::nullopt;
    }
    if (parsed < min || parsed > max) {
      problem(path, strCat("must be between ", min, " and ", max, ", got ", *value));
      return std::nullopt;
    }
    return parsed;
  }
  std::optional<Secret> secret(const std::string& env_name) {
    std::optional<std::string> value = env_(env_name);
    if (!value || value->empty()) return std::nullopt;
    return Secret{env_name, *value};
  }

  void metricsSource(const YAML::Node& node, MetricsSourceConfig& out) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) {
      problem("metrics_source", strCat("expected a map, got ", describe(node)));
      return;
    }
    for (const auto& entry : node) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      if (key != "kind" && key != "url") problem(strCat("metrics_source.", key), "unknown key");
    }
    if (auto v = text(node["kind"], "metrics_source.kind")) out.kind = *v;
    if (auto v = text(node["url"], "metrics_source.url")) out.url = *v;
    if (out.kind == "prometheus") {
      if (out.url.empty()) {
        problem("metrics_source.url", "required when kind is prometheus");
      } else if (!out.url.starts_with("http://")) {
        problem("metrics_source.url", strCat("expected an http:// URL, got ", quote(out.url)));
      }
    } else if (out.kind != "proxies") {
      problem("metrics_source.kind",
              strCat("expected one of proxies, prometheus, got ", quote(out.kind)));
    }
  }

  // `tls:` needs ca_file (client certificates are verified against it);
  // `webhook_tls:` only cert_file and key_file.
  std::optional<TlsFiles> tlsFiles(const YAML::Node& node, std::string_view base, bool needs_ca) {
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    if (!node.IsMap()) {
      problem(base, strCat("expected a map, got ", describe(node)));
      return std::nullopt;
    }
    const std::size_t before = problems_.size();
    for (const auto& entry : node) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      if (key != "ca_file" && key != "cert_file" && key != "key_file") {
        problem(strCat(base, ".", key), "unknown key");
      }
    }
    TlsFiles files;
    auto required = [&](std::string_view key, std::string& out) {
      const std::string at = strCat(base, ".", key);
      if (!node[std::string(key)].IsDefined() || node[std::string(key)].IsNull()) {
        problem(at, "missing required key");
        return;
      }
      if (auto v = path(node[std::string(key)], at)) out = *v;
    };
    required("cert_file", files.cert_file);
    required("key_file", files.key_file);
    if (needs_ca) {
      required("ca_file", files.ca_file);
    } else if (auto v = path(node["ca_file"], strCat(base, ".ca_file"))) {
      files.ca_file = *v;
    }
    if (problems_.size() != before) return std::nullopt;
    return files;
  }

  void injection(const YAML::Node& node, InjectionConfig& out) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) {
      problem("injection", strCat("expected a map, got ", describe(node)));
      return;
    }
    static constexpr std::array<std::string_view, 9> kKeys = {
        "image",       "image_pull_policy", "control_address",
        "config_map",  "resources",         "pre_stop_sleep",
        "run_as_user", "secret_name",       "termination_grace_period"};
    for (const auto& entry : node) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
        problem(strCat("injection.", key), "unknown key");
      }
    }
    auto nonEmpty = [&](std::string_view key, std::string& target) {
      const std::string at = strCat("injection.", key);
      if (auto v = text(node[std::string(key)], at)) {
        if (v->empty()) {
          problem(at, "must not be empty");
        } else {
          target = *v;
        }
      }
    };
    nonEmpty("image", out.image);
    nonEmpty("control_address", out.control_address);
    nonEmpty("config_map", out.config_map);
    if (auto v = text(node["image_pull_policy"], "injection.image_pull_policy")) {
      if (*v != "Always" && *v != "IfNotPresent" && *v != "Never") {
        problem("injection.image_pull_policy",
                strCat("expected one of Always, IfNotPresent, Never, got ", quote(*v)));
      } else {
        out.image_pull_policy = *v;
      }
    }
    if (auto v = duration(node["pre_stop_sleep"], "injection.pre_stop_sleep")) {
      out.pre_stop_sleep = *v;
    }
    if (auto v = number(node["run_as_user"], "injection.run_as_user", 1, 2147483647)) {
      out.run_as_user = static_cast<std::int64_t>(*v);
    }
    if (auto v = text(node["secret_name"], "injection.secret_name")) {
      if (!v->empty() && !isDnsSubdomain(*v)) {
        problem("injection.secret_name",
                strCat("expected a Secret name (lowercase letters, digits, '-', '.'; at most 253) "
                       "or \"\" for none, got ",
                       quote(v->substr(0, 64))));
      } else {
        out.secret_name = *v;
      }
    }
    if (auto v = duration(node["termination_grace_period"], "injection.termination_grace_period")) {
      out.termination_grace_period = *v;
    }
    if (out.termination_grace_period <= out.pre_stop_sleep) {
      problem("injection.termination_grace_period",
              "must exceed pre_stop_sleep (the sidecar drains after the preStop sleep)");
    }
    const YAML::Node resources = node["resources"];
    if (!resources.IsDefined() || resources.IsNull()) return;
    if (!resources.IsMap()) {
      problem("injection.resources", strCat("expected a map, got ", describe(resources)));
      return;
    }
    static constexpr std::array<std::string_view, 4> kResourceKeys = {
        "cpu_request", "memory_request", "cpu_limit", "memory_limit"};
    for (const auto& entry : resources) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      if (std::find(kResourceKeys.begin(), kResourceKeys.end(), key) == kResourceKeys.end()) {
        problem(strCat("injection.resources.", key), "unknown key");
      }
    }
    std::array<std::string*, 4> targets = {&out.cpu_request, &out.memory_request, &out.cpu_limit,
                                           &out.memory_limit};
    for (std::size_t i = 0; i < kResourceKeys.size(); ++i) {
      const std::string at = strCat("injection.resources.", kResourceKeys[i]);
      std::optional<std::string> v = text(resources[std::string(kResourceKeys[i])], at);
      if (!v) continue;
      if (!parseK8sQuantity(*v)) {
        problem(at, strCat("expected a Kubernetes quantity (e.g. 100m, 128Mi), got ", quote(*v)));
        continue;
      }
      *targets[i] = *v;
    }
    if (*parseK8sQuantity(out.cpu_request) > *parseK8sQuantity(out.cpu_limit)) {
      problem("injection.resources.cpu_request", "must not exceed cpu_limit");
    }
    if (*parseK8sQuantity(out.memory_request) > *parseK8sQuantity(out.memory_limit)) {
      problem("injection.resources.memory_request", "must not exceed memory_limit");
    }
  }

  void policies(const YAML::Node& node, ControlConfig& out) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsSequence()) {
      problem("policies", strCat("expected a list, got ", describe(node)));
      return;
    }
    static constexpr std::array<std::string_view, 8> kKeys = {
        "model",       "p95_latency_max", "ttft_p95_max", "error_rate_max",
        "min_samples", "shift_to",        "shift_for",    "probe_percent"};
    std::size_t index = 0;
    for (const auto& item : node) {
      const std::string base = strCat("policies[", index++, "]");
      if (!item.IsMap()) {
        problem(base, strCat("expected a map, got ", describe(item)));
        continue;
      }
      for (const auto& entry : item) {
        const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
        if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
          problem(strCat(base, ".", key), "unknown key");
        }
      }
      PolicyConfig policy;
      const std::size_t before = problems_.size();
      auto at = [&](std::string_view key) { return strCat(base, ".", key); };
      if (auto v = text(item["model"], at("model"))) policy.model = *v;
      policy.p95_latency_max = duration(item["p95_latency_max"], at("p95_latency_max"));
      policy.ttft_p95_max = duration(item["ttft_p95_max"], at("ttft_p95_max"));
      policy.error_rate_max = number(item["error_rate_max"], at("error_rate_max"), 0, 1);
      if (auto v = number(item["min_samples"], at("min_samples"), 0, 1e12)) {
        policy.min_samples = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(*v));
      }
      if (auto v = text(item["shift_to"], at("shift_to"))) policy.shift_to = *v;
      if (auto v = duration(item["shift_for"], at("shift_for"))) policy.shift_for = *v;
      if (auto v = number(item["probe_percent"], at("probe_percent"), 0, 99.999)) {
        policy.probe_percent = *v;
      }
      if (problems_.size() != before) continue;
      for (std::string& p : validatePolicy(policy, out.models, base)) {
        problems_.push_back(std::move(p));
      }
      for (const PolicyConfig& other : out.policies) {
        if (other.model == policy.model) {
          problem(at("model"), strCat("a policy for ", quote(policy.model), " is already set"));
        }
      }
      out.policies.push_back(std::move(policy));
    }
  }

  const EnvLookup& env_;
  std::filesystem::path base_dir_;
  std::vector<std::string> problems_;
};

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    if (!out.empty()) out += "\n";
    out += line;
  }
  return out;
}

}  // namespace

const ModelConfig* ControlConfig::findModel(std::string_view name) const {
  for (const ModelConfig& model : models) {
    if (model.name == name) return &model;
  }
  return nullptr;
}

std::vector<std::string> validatePolicy(const PolicyConfig& policy,
                                        const std::vector<ModelConfig>& models,
                                        std::string_view path) {
  std::vector<std::string> problems;
  auto known = [&](const std::string& name) {
    return std::any_of(models.begin(), models.end(),
                       [&](const ModelConfig& m) { return m.name == name; });
  };
  if (policy.model.empty()) {
    problems.push_back(strCat(path, ".model: missing required key"));
  } else if (!known(policy.model)) {
    problems.push_back(strCat(path, ".model: unknown model ", quote(policy.model)));
  }
  if (policy.shift_to.empty()) {
    problems.push_back(strCat(path, ".shift_to: missing required key"));
  } else if (!known(policy.shift_to)) {
    problems.push_back(strCat(path, ".shift_to: unknown model ", quote(policy.shift_to)));
  } else if (policy.shift_to == policy.model) {
    problems.push_back(strCat(path, ".shift_to: must differ from model"));
  }
  if (policy.shift_for.count() <= 0) {
    problems.push_back(strCat(path, ".shift_for: missing required key (a duration > 0)"));
  }
  if (!policy.p95_latency_max && !policy.ttft_p95_max && !policy.error_rate_max) {
    problems.push_back(
        strCat(path, ": needs at least one of p95_latency_max, ttft_p95_max, error_rate_max"));
  }
  if (policy.error_rate_max && !(*policy.error_rate_max >= 0 && *policy.error_rate_max <= 1)) {
    problems.push_back(strCat(path, ".error_rate_max: must be between 0 and 1"));
  }
  if (!(policy.probe_percent >= 0 && policy.probe_percent < 100)) {
    problems.push_back(strCat(path, ".probe_percent: must be in [0, 100)"));
  }
  return problems;
}

absl::StatusOr<ControlConfig> loadControlConfigString(std::string_view yaml,
                                                      std::string_view source, const EnvLookup& env,
                                                      std::string_view base_dir) {
  if (yaml.size() > kMaxFileBytes) {
    return absl::InvalidArgumentError(strCat(source, ": larger than ", formatSize(kMaxFileBytes)));
  }
  try {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(yaml));
    } catch (const YAML::ParserException& e) {
      return absl::InvalidArgumentError(strCat(source, ":", e.mark.line + 1, ":", e.mark.column + 1,
                                               ": YAML syntax error: ", e.msg));
    }
    ControlLoader loader(env, base_dir);
    ControlConfig config;
    loader.load(root, config);
    if (!loader.problems().empty()) return absl::InvalidArgumentError(join(loader.problems()));
    config.source = std::string(source);
    return config;
  } catch (const std::exception& e) {
    return absl::InternalError(strCat(source, ": loading the config failed: ", e.what()));
  }
}

absl::StatusOr<ControlConfig> loadControlConfigFile(const std::string& path, const EnvLookup& env) {
  absl::StatusOr<std::string> content = readFile(path, "config file");
  if (!content.ok()) return content.status();
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  return loadControlConfigString(*content, path, env, base_dir);
}

}  // namespace llmgate::config

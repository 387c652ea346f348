#include "proxy/control/snapshot_config.h"

#include <array>
#include <charconv>
#include <chrono>
#include <string>

#include "boost/json.hpp"
#include "common/config/loader.h"
#include "common/text/str_cat.h"

namespace llmgate::proxy::control {
namespace {

namespace json = boost::json;

json::array strings(const google::protobuf::RepeatedPtrField<std::string>& items) {
  json::array out;
  for (const std::string& item : items) out.emplace_back(item);
  return out;
}

// A price as the shortest decimal text ("0.15", "-1"): the loader reads a
// scalar either way, and its messages then quote what an operator wrote
// rather than Boost.JSON's "1.5E-1". A non-finite one stays visible ("inf").
json::value price(double value) {
  std::array<char, 64> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (ec != std::errc()) return json::value(std::to_string(value));
  return json::value(
      json::string_view(buffer.data(), static_cast<std::size_t>(end - buffer.data())));
}

json::object model(const v1::Model& m) {
  json::object out;
  out["name"] = m.name();
  out["provider"] = m.provider();
  if (!m.upstream_model().empty()) out["upstream_model"] = m.upstream_model();
  if (m.context_window() > 0) out["context_window"] = m.context_window();
  if (m.max_output_tokens() > 0) out["max_output_tokens"] = m.max_output_tokens();
  if (m.has_price_per_mtok()) {
    json::object p;
    p["input"] = price(m.price_per_mtok().input());
    if (m.price_per_mtok().has_cached_input()) {
      p["cached_input"] = price(m.price_per_mtok().cached_input());
    }
    p["output"] = price(m.price_per_mtok().output());
    out["price_per_mtok"] = std::move(p);
  }
  if (m.strengths_size() > 0) out["strengths"] = strings(m.strengths());
  if (m.fallbacks_size() > 0) out["fallbacks"] = strings(m.fallbacks());
  return out;
}

// `when:` with the conditions the rule sets, nothing else: a condition-less
// rule gives `when: {}`, which the loader refuses ("needs at least one
// condition") rather than letting it match every request.
json::object routeMatch(const v1::RouteRule& rule) {
  json::object when;
  if (rule.task_size() > 0) when["task"] = strings(rule.task());
  if (rule.has_min_prompt_tokens()) when["min_prompt_tokens"] = rule.min_prompt_tokens();
  if (rule.has_max_prompt_tokens()) when["max_prompt_tokens"] = rule.max_prompt_tokens();
  if (rule.has_tools()) when["tools"] = rule.tools();
  if (rule.response_format_types_size() > 0) {
    when["response_format"] = strings(rule.response_format_types());
  } else if (rule.has_response_format()) {
    when["response_format"] = rule.response_format();
  }
  if (rule.tenant_size() > 0) when["tenant"] = strings(rule.tenant());
  // An empty pattern stays visible: the loader refuses it at its path.
  if (rule.has_last_user_message()) when["last_user_message"] = rule.last_user_message();
  if (!rule.budget().empty()) when["budget"] = rule.budget();
  return when;
}

json::object routeRule(const v1::RouteRule& rule) {
  json::object out;
  out["when"] = routeMatch(rule);
  // Both present: the loader refuses the pair. Neither: `targets: []`, which
  // it refuses as an empty list.
  if (rule.targets_size() > 0 || rule.split_size() == 0) out["targets"] = strings(rule.targets());
  if (rule.split_size() > 0) {
    json::array arms;
    for (const v1::SplitArm& arm : rule.split()) {
      arms.emplace_back(
          json::object{{"weight", arm.weight()}, {"targets", strings(arm.targets())}});
    }
    out["split"] = std::move(arms);
  }
  return out;
}

// What the loader cannot see in the JSON: types listed with
// `response_format: false` (the JSON carries the types only).
std::vector<std::string> ruleProblems(const v1::RouteSnapshot& snapshot) {
  std::vector<std::string> problems;
  for (int i = 0; i < snapshot.routes_size(); ++i) {
    for (int j = 0; j < snapshot.routes(i).rules_size(); ++j) {
      const v1::RouteRule& rule = snapshot.routes(i).rules(j);
      if (rule.response_format_types_size() > 0 && rule.has_response_format() &&
          !rule.response_format()) {
        problems.push_back(strCat("routes[", i, "].rules[", j,
                                  "].when.response_format: types listed with "
                                  "response_format false"));
      }
    }
  }
  return problems;
}

std::string joinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    if (!out.empty()) out += "\n";
    out += line;
  }
  return out;
}

json::object route(const v1::Route& r) {
  json::object out;
  out["name"] = r.name();
  if (r.rules_size() > 0) {
    json::array rules;
    for (const v1::RouteRule& rule : r.rules()) rules.emplace_back(routeRule(rule));
    out["rules"] = std::move(rules);
  }
  if (r.default_targets_size() > 0) out["default"] = strings(r.default_targets());
  return out;
}

std::string quoted(std::string_view text) { return json::serialize(json::string(text)); }

std::string origin(v1::Override::Origin value) {
  switch (value) {
    case v1::Override::ORIGIN_OPERATOR:
      return "operator";
    case v1::Override::ORIGIN_POLICY:
      return "policy";
    default:
      return "unspecified";
  }
}

}  // namespace

std::string modelsAndRoutesJson(const v1::RouteSnapshot& snapshot) {
  json::array models;
  for (const v1::Model& m : snapshot.models()) models.emplace_back(model(m));
  json::array routes;
  for (const v1::Route& r : snapshot.routes()) routes.emplace_back(route(r));
  json::object root;
  root["models"] = std::move(models);
  if (!routes.empty()) root["routes"] = std::move(routes);
  return json::serialize(root);
}

absl::StatusOr<std::vector<config::RouteOverride>> convertOverrides(
    const v1::RouteSnapshot& snapshot, const config::Config& config) {
  std::vector<config::RouteOverride> out;
  std::vector<std::string> problems;
  for (int i = 0; i < snapshot.overrides_size(); ++i) {
    const v1::Override& o = snapshot.overrides(i);
    const std::string path = strCat("overrides[", i, "]");
    auto knownModel = [&](const std::string& name) { return config.findModel(name) != nullptr; };
    config::RouteOverride item;
    item.id = o.id();
    item.subject = o.subject();
    item.origin = origin(o.origin());
    item.reason = o.reason();
    if (o.id().empty()) problems.push_back(strCat(path, ".id: missing"));
    switch (o.action_case()) {
      case v1::Override::kShift:
        item.action = config::RouteOverride::Action::kShift;
        item.to = o.shift().to();
        item.weight = o.shift().weight();
        if (!(item.weight > 0 && item.weight <= 1)) {
          problems.push_back(
              strCat(path, ".shift.weight: must be in (0, 1], got ", std::to_string(item.weight)));
        }
        if (!knownModel(item.to)) {
          problems.push_back(strCat(path, ".shift.to: unknown model ", quoted(item.to)));
        } else if (item.to == item.subject) {
          problems.push_back(strCat(path, ".shift.to: must differ from the subject"));
        }
        break;
      case v1::Override::kPin:
        item.action = config::RouteOverride::Action::kPin;
        item.to = o.pin().to();
        if (!knownModel(item.to)) {
          problems.push_back(strCat(path, ".pin.to: unknown model ", quoted(item.to)));
        }
        break;
      case v1::Override::kDrain:
        item.action = config::RouteOverride::Action::kDrain;
        break;
      default:
        problems.push_back(strCat(path, ": no action (shift, pin or drain)"));
        continue;
    }
    const bool subject_ok =
        knownModel(item.subject) || (item.action == config::RouteOverride::Action::kPin &&
                                     config.findRoute(item.subject) != nullptr);
    if (!subject_ok) {
      problems.push_back(
          strCat(path, ".subject: unknown ",
                 item.action == config::RouteOverride::Action::kPin ? "model or route " : "model ",
                 quoted(item.subject)));
    }
    if (o.has_expires_at()) {
      const auto since_epoch = std::chrono::seconds(o.expires_at().seconds()) +
                               std::chrono::nanoseconds(o.expires_at().nanos());
      item.expires_at = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
    }
    out.push_back(std::move(item));
  }
  if (!problems.empty()) return absl::InvalidArgumentError(joinLines(problems));
  return out;
}

absl::StatusOr<config::Config> buildCandidate(const config::Config& file,
                                              const v1::RouteSnapshot& snapshot) {
  if (snapshot.version().empty()) return absl::InvalidArgumentError("version: missing");
  if (std::vector<std::string> problems = ruleProblems(snapshot); !problems.empty()) {
    return absl::InvalidArgumentError(joinLines(problems));
  }
  absl::StatusOr<config::ModelsAndRoutes> loaded = config::loadModelsAndRoutesString(
      modelsAndRoutesJson(snapshot), strCat("snapshot ", snapshot.version()), file.providers);
  if (!loaded.ok()) return loaded.status();
  config::Config candidate = file;
  candidate.models = std::move(loaded->models);
  candidate.routes = std::move(loaded->routes);
  // The file's own references into models must still hold.
  if (!candidate.truncation.reprocess_on.empty() &&
      candidate.findModel(candidate.truncation.reprocess_on) == nullptr) {
    return absl::InvalidArgumentError(
        strCat("models: the proxy's truncation.reprocess_on names model ",
               quoted(candidate.truncation.reprocess_on), ", which the snapshot does not have"));
  }
  for (const config::ProviderConfig& provider : candidate.providers) {
    if (provider.keepalive_ping && candidate.findModel(provider.keepalive_ping->model) == nullptr) {
      return absl::InvalidArgumentError(strCat(
          "models: the proxy's providers[", provider.name, "].keepalive_ping.model names model ",
          quoted(provider.keepalive_ping->model), ", which the snapshot does not have"));
    }
  }
  absl::StatusOr<std::vector<config::RouteOverride>> overrides =
      convertOverrides(snapshot, candidate);
  if (!overrides.ok()) return overrides.status();
  candidate.overrides = std::move(*overrides);
  candidate.routes_version = snapshot.version();
  return candidate;
}

}  // namespace llmgate::proxy::control

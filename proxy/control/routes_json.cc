#include "proxy/control/routes_json.h"

#include <ctime>

#include "boost/json.hpp"
#include "common/config/loader.h"

namespace llmgate::proxy::control {
namespace {

namespace json = boost::json;

json::array strings(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& item : items) out.emplace_back(item);
  return out;
}

std::string rfc3339(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

const char* actionName(config::RouteOverride::Action action) {
  switch (action) {
    case config::RouteOverride::Action::kShift:
      return "shift";
    case config::RouteOverride::Action::kPin:
      return "pin";
    case config::RouteOverride::Action::kDrain:
      return "drain";
  }
  return "shift";
}

}  // namespace

std::string routesJson(const config::Config& config, std::string_view source,
                       const std::optional<ControlPlaneView>& control_plane,
                       std::chrono::system_clock::time_point now) {
  json::object root;
  root["version"] = config.routes_version;
  root["source"] = source;
  json::array models;
  for (const config::ModelConfig& m : config.models) {
    json::object o;
    o["name"] = m.name;
    o["provider"] = m.provider;
    o["upstream_model"] = m.upstream_model;
    o["context_window"] = m.context_window;
    o["max_output_tokens"] = m.max_output_tokens;
    o["price_per_mtok"] = json::object{{"input", m.price_per_mtok.input},
                                       {"cached_input", m.price_per_mtok.cached_input},
                                       {"output", m.price_per_mtok.output}};
    o["strengths"] = strings(m.strengths);
    o["fallbacks"] = strings(m.fallbacks);
    models.emplace_back(std::move(o));
  }
  root["models"] = std::move(models);
  json::array routes;
  for (const config::RouteConfig& r : config.routes) {
    json::object o;
    o["name"] = r.name;
    json::array rules;
    for (const config::RouteRule& rule : r.rules) rules.emplace_back(config::routeRuleJson(rule));
    o["rules"] = std::move(rules);
    o["default"] = strings(r.default_targets);
    routes.emplace_back(std::move(o));
  }
  root["routes"] = std::move(routes);
  json::array overrides;
  for (const config::RouteOverride& item : config.overrides) {
    json::object o;
    o["id"] = item.id;
    o["subject"] = item.subject;
    o["action"] = actionName(item.action);
    if (item.action != config::RouteOverride::Action::kDrain) o["to"] = item.to;
    if (item.action == config::RouteOverride::Action::kShift) o["weight"] = item.weight;
    if (item.expires_at) {
      o["expires_at"] = rfc3339(*item.expires_at);
      o["expired"] = *item.expires_at <= now;
    } else {
      o["expires_at"] = nullptr;
      o["expired"] = false;
    }
    o["origin"] = item.origin;
    o["reason"] = item.reason;
    overrides.emplace_back(std::move(o));
  }
  root["overrides"] = std::move(overrides);
  if (control_plane) {
    root["control_plane"] = json::object{{"address", control_plane->address},
                                         {"connected", control_plane->connected},
                                         {"last_error", control_plane->last_error}};
  } else {
    root["control_plane"] = nullptr;
  }
  return json::serialize(root) + "\n";
}

}  // namespace llmgate::proxy::control

// effectiveConfigJson: the loaded config as the admin /config endpoint shows
// it. Secrets appear as their variable's name and "***", never their value.
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <string>
#include <system_error>
#include <vector>

#include "common/config/loader.h"
#include "common/config/schema.h"
#include "common/config/units.h"

namespace llmgate::config {
namespace {

namespace json = boost::json;

json::value secretJson(const Secret& secret) {
  if (secret.env.empty()) return nullptr;
  return json::object{{"env", secret.env}, {"value", "***"}};
}

json::value durationJson(Duration d) { return json::string(formatDuration(d)); }

json::array stringsJson(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& item : items) out.emplace_back(item);
  return out;
}

json::object timeoutsJson(const Timeouts& t) {
  return json::object{{"connect", durationJson(t.connect)},
                      {"first_byte", durationJson(t.first_byte)},
                      {"stream_idle", durationJson(t.stream_idle)},
                      {"total", durationJson(t.total)}};
}

json::object retryJson(const RetryPolicy& r) {
  return json::object{{"max_attempts", r.max_attempts},
                      {"base_delay", durationJson(r.base_delay)},
                      {"max_delay", durationJson(r.max_delay)},
                      {"budget_percent", r.budget_percent}};
}

json::value effectiveJson(const Config& c) {
  json::object out;
  out["source"] = c.source;
  out["server"] = json::object{
      {"listen", c.server.listen},
      {"admin_listen", c.server.admin_listen},
      {"workers", c.server.workers},
      {"max_request_bytes", formatSize(c.server.max_request_bytes)},
      {"max_header_bytes", formatSize(c.server.max_header_bytes)},
      {"max_connections", c.server.max_connections},
      {"drain_timeout", durationJson(c.server.drain_timeout)},
      {"request_header_timeout", durationJson(c.server.request_header_timeout)},
      {"request_body_timeout", durationJson(c.server.request_body_timeout)},
      {"idle_timeout", durationJson(c.server.idle_timeout)},
      {"config_watch_interval", durationJson(c.server.config_watch_interval)},
  };
  json::array clients;
  for (const ClientConfig& client : c.clients) {
    json::value per_day = nullptr;
    json::value per_minute = nullptr;
    if (client.budget.usd_per_day) per_day = *client.budget.usd_per_day;
    if (client.budget.usd_per_minute) per_minute = *client.budget.usd_per_minute;
    clients.push_back(
        json::object{{"key", secretJson(client.key)},
                     {"tenant", client.tenant},
                     {"budget", json::object{{"usd_per_day", per_day},
                                             {"usd_per_minute", per_minute},
                                             {"low_at_percent", client.budget.low_at_percent}}}});
  }
  out["clients"] = std::move(clients);
  json::array providers;
  for (const ProviderConfig& p : c.providers) {
    json::value ping = nullptr;
    if (p.keepalive_ping) {
      ping = json::object{{"interval", durationJson(p.keepalive_ping->interval)},
                          {"model", p.keepalive_ping->model}};
    }
    providers.push_back(json::object{
        {"name", p.name},
        {"kind", toString(p.kind)},
        {"base_url", p.base_url},
        {"endpoint", json::object{{"tls", p.endpoint.tls},
                                  {"host", p.endpoint.host},
                                  {"port", p.endpoint.port},
                                  {"base_path", p.endpoint.base_path}}},
        {"api_key", secretJson(p.api_key)},
        {"max_connections", p.max_connections},
        {"allow_private_network", p.allow_private_network},
        {"timeouts", timeoutsJson(p.timeouts)},
        {"retry", retryJson(p.retry)},
        {"keepalive_ping", ping},
    });
  }
  out["providers"] = std::move(providers);
  json::array models;
  for (const ModelConfig& m : c.models) {
    json::value latency = nullptr;
    if (m.latency_hint) latency = durationJson(*m.latency_hint);
    models.push_back(json::object{
        {"name", m.name},
        {"provider", m.provider},
        {"upstream_model", m.upstream_model},
        {"context_window", m.context_window},
        {"max_output_tokens", m.max_output_tokens},
        {"price_per_mtok", json::object{{"input", m.price_per_mtok.input},
                                        {"cached_input", m.price_per_mtok.cached_input},
                                        {"output", m.price_per_mtok.output}}},
        {"strengths", stringsJson(m.strengths)},
        {"fallbacks", stringsJson(m.fallbacks)},
        {"latency_hint", latency},
    });
  }
  out["models"] = std::move(models);
  json::array routes;
  for (const RouteConfig& r : c.routes) {
    json::array rules;
    for (const RouteRule& rule : r.rules) rules.push_back(routeRuleJson(rule));
    routes.push_back(json::object{{"name", r.name},
                                  {"rules", std::move(rules)},
                                  {"default", stringsJson(r.default_targets)}});
  }
  out["routes"] = std::move(routes);
  out["retry"] = retryJson(c.retry);
  out["timeouts"] = timeoutsJson(c.timeouts);
  out["failover"] = json::object{{"eject_after", c.failover.eject_after},
                                 {"eject_for", durationJson(c.failover.eject_for)},
                                 {"when_all_ejected", c.failover.when_all_ejected}};
  out["truncation"] =
      json::object{{"action", c.truncation.action}, {"reprocess_on", c.truncation.reprocess_on}};
  json::value redis = nullptr;
  if (c.cache.redis) {
    json::value password = nullptr;
    if (c.cache.redis->password) password = secretJson(*c.cache.redis->password);
    redis = json::object{{"url", c.cache.redis->url},
                         {"ttl", durationJson(c.cache.redis->ttl)},
                         {"timeout", durationJson(c.cache.redis->timeout)},
                         {"password", password}};
  }
  out["cache"] = json::object{
      {"mode", c.cache.mode},
      {"l1", json::object{{"max_bytes", formatSize(c.cache.l1_max_bytes)},
                          {"ttl", durationJson(c.cache.l1_ttl)}}},
      {"redis", redis},
  };
  json::value control_plane = nullptr;
  if (c.control_plane) {
    const ControlPlaneConfig& cp = *c.control_plane;
    json::value token = nullptr;
    if (cp.token) token = secretJson(*cp.token);
    json::value tls = nullptr;
    if (cp.tls) {
      tls = json::object{{"ca_file", cp.tls->ca_file},
                         {"cert_file", cp.tls->cert_file},
                         {"key_file", cp.tls->key_file}};
    }
    control_plane = json::object{{"address", cp.address},
                                 {"node_id_env", cp.node_id_env},
                                 {"report_interval", durationJson(cp.report_interval)},
                                 {"token", token},
                                 {"cache_file", cp.cache_file},
                                 {"reconnect_max", durationJson(cp.reconnect_max)},
                                 {"keepalive_time", durationJson(cp.keepalive_time)},
                                 {"keepalive_timeout", durationJson(cp.keepalive_timeout)},
                                 {"tls", tls}};
  }
  out["control_plane"] = control_plane;
  out["logging"] = json::object{{"level", c.logging.level},
                                {"access_log", c.logging.access_log},
                                {"log_prompts", c.logging.log_prompts}};
  return out;
}

// Boost.JSON 1.81 has no pretty printer, and writes 0.15 as 1.5E-1.
void writePretty(std::string& out, const json::value& value, int indent) {
  const auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<std::size_t>(level) * 2, ' ');
  };
  switch (value.kind()) {
    case json::kind::object: {
      const json::object& object = value.get_object();
      if (object.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& entry : object) {
        if (!first) out += ',';
        first = false;
        newline(indent + 1);
        out += json::serialize(json::string(entry.key()));
        out += ": ";
        writePretty(out, entry.value(), indent + 1);
      }
      newline(indent);
      out += '}';
      return;
    }
    case json::kind::array: {
      const json::array& array = value.get_array();
      if (array.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const json::value& item : array) {
        if (!first) out += ',';
        first = false;
        newline(indent + 1);
        writePretty(out, item, indent + 1);
      }
      newline(indent);
      out += ']';
      return;
    }
    case json::kind::double_: {
      std::array<char, 32> buffer{};
      const auto [end, ec] =
          std::to_chars(buffer.data(), buffer.data() + buffer.size(), value.get_double());
      out.append(buffer.data(), ec == std::errc() ? end : buffer.data());
      return;
    }
    default:
      out += json::serialize(value);
      return;
  }
}

}  // namespace

json::object routeMatchJson(const RouteMatch& match) {
  json::object when;
  if (!match.task.empty()) when["task"] = stringsJson(match.task);
  if (match.min_prompt_tokens) when["min_prompt_tokens"] = *match.min_prompt_tokens;
  if (match.max_prompt_tokens) when["max_prompt_tokens"] = *match.max_prompt_tokens;
  if (match.tools) when["tools"] = *match.tools;
  if (!match.response_format_types.empty()) {
    when["response_format"] = stringsJson(match.response_format_types);
  } else if (match.response_format) {
    when["response_format"] = *match.response_format;
  }
  if (!match.tenant.empty()) when["tenant"] = stringsJson(match.tenant);
  if (match.last_user_message_re) when["last_user_message"] = match.last_user_message;
  if (match.budget_low) when["budget"] = "low";
  return when;
}

json::object routeRuleJson(const RouteRule& rule) {
  json::object entry{{"when", routeMatchJson(rule.when)}};
  if (rule.split.empty()) {
    entry["targets"] = stringsJson(rule.targets);
  } else {
    json::array arms;
    for (const RouteSplit& arm : rule.split) {
      arms.push_back(json::object{{"weight", arm.weight}, {"targets", stringsJson(arm.targets)}});
    }
    entry["split"] = std::move(arms);
  }
  return entry;
}

std::string effectiveConfigJson(const Config& config) {
  std::string out;
  writePretty(out, effectiveJson(config), 0);
  out += '\n';
  return out;
}

}  // namespace llmgate::config

#include "boost/json/serialize.hpp"
#include "common/config/loader.h"
#include "proxy/handlers/handlers.h"

namespace llmgate::proxy::handlers {
namespace {

boost::json::array strings(const std::vector<std::string>& items) {
  boost::json::array out;
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

}  // namespace

// OpenAI's list shape; llmgate's own details sit under "llmgate" so SDKs that
// only read id/object/owned_by are unaffected.
boost::asio::awaitable<void> handleListModels(runtime::RequestContext& ctx) {
  namespace json = boost::json;
  const config::Config& config = *ctx.snapshot.config;
  json::array data;
  for (const auto& model : config.models) {
    json::object details{{"provider", model.provider},
                         {"upstream_model", model.upstream_model},
                         {"context_window", model.context_window},
                         {"max_output_tokens", model.max_output_tokens}};
    json::array fallbacks;
    for (const auto& f : model.fallbacks) fallbacks.emplace_back(f);
    details["fallbacks"] = std::move(fallbacks);
    data.emplace_back(json::object{{"id", model.name},
                                   {"object", "model"},
                                   {"created", 0},
                                   {"owned_by", model.provider},
                                   {"llmgate", std::move(details)}});
  }
  for (const auto& route : config.routes) {
    json::array targets;
    for (const auto& t : route.default_targets) targets.emplace_back(t);
    json::array rules;
    for (const auto& rule : route.rules) {
      // "task" stays at the top level for clients of the first version.
      json::object entry{{"task", strings(rule.when.task)},
                         {"when", config::routeMatchJson(rule.when)}};
      if (rule.split.empty()) {
        entry["targets"] = strings(rule.targets);
      } else {
        json::array arms;
        for (const auto& arm : rule.split) {
          arms.emplace_back(
              json::object{{"weight", arm.weight}, {"targets", strings(arm.targets)}});
        }
        entry["split"] = std::move(arms);
      }
      rules.emplace_back(std::move(entry));
    }
    data.emplace_back(json::object{{"id", route.name},
                                   {"object", "model"},
                                   {"created", 0},
                                   {"owned_by", "llmgate"},
                                   {"llmgate", json::object{{"alias", true},
                                                            {"default", std::move(targets)},
                                                            {"rules", std::move(rules)}}}});
  }
  json::object list{{"object", "list"}, {"data", std::move(data)}};
  std::string body = json::serialize(list);
  co_await ctx.writer.send(200, std::move(body), "application/json");
}

}  // namespace llmgate::proxy::handlers

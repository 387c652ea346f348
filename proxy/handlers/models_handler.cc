#include "boost/json/serialize.hpp"
#include "proxy/handlers/handlers.h"

namespace llmgate::proxy::handlers {

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
      json::array tasks;
      for (const auto& t : rule.when.task) tasks.emplace_back(t);
      json::array rule_targets;
      for (const auto& t : rule.targets) rule_targets.emplace_back(t);
      rules.emplace_back(
          json::object{{"task", std::move(tasks)}, {"targets", std::move(rule_targets)}});
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

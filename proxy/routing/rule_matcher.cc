#include "proxy/routing/rule_matcher.h"

#include <algorithm>

#include "common/text/str_cat.h"
#include "re2/re2.h"

namespace llmgate::proxy::routing {
namespace {

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

void note(std::string* matched, std::string_view what) {
  if (matched == nullptr) return;
  if (!matched->empty()) matched->append("; ");
  matched->append(what);
}

}  // namespace

bool ruleMatches(const config::RouteMatch& when, const RequestFacts& facts, std::string* matched) {
  std::string what;
  std::string* out = matched != nullptr ? &what : nullptr;
  if (!when.task.empty()) {
    if (facts.task.empty() || !contains(when.task, facts.task)) return false;
    note(out, strCat("task=", facts.task));
  }
  if (when.min_prompt_tokens) {
    if (facts.prompt_tokens < *when.min_prompt_tokens) return false;
    note(out, strCat("prompt_tokens=", facts.prompt_tokens, ">=", *when.min_prompt_tokens));
  }
  if (when.max_prompt_tokens) {
    if (facts.prompt_tokens > *when.max_prompt_tokens) return false;
    note(out, strCat("prompt_tokens=", facts.prompt_tokens, "<=", *when.max_prompt_tokens));
  }
  if (when.tools) {
    if (facts.has_tools != *when.tools) return false;
    note(out, facts.has_tools ? "tools" : "no_tools");
  }
  if (when.response_format) {
    if (facts.has_response_format != *when.response_format) return false;
    if (!when.response_format_types.empty()) {
      if (!contains(when.response_format_types, facts.response_format_type)) return false;
      note(out, strCat("response_format=", facts.response_format_type));
    } else {
      note(out, facts.has_response_format ? "response_format" : "no_response_format");
    }
  }
  if (!when.tenant.empty()) {
    if (!contains(when.tenant, facts.tenant)) return false;
    note(out, strCat("tenant=", facts.tenant));
  }
  if (when.last_user_message_re) {
    if (!RE2::PartialMatch(facts.last_user_message, *when.last_user_message_re)) return false;
    note(out, "last_user_message");
  }
  if (when.budget_low) {
    if (!facts.budget_low) return false;
    note(out, "budget=low");
  }
  if (matched != nullptr) *matched = std::move(what);
  return true;
}

std::size_t pickSplitArm(const std::vector<config::RouteSplit>& arms, std::uint64_t draw) {
  std::uint64_t total = 0;
  for (const auto& arm : arms) total += arm.weight;
  if (total == 0) return 0;
  std::uint64_t point = draw % total;
  for (std::size_t i = 0; i < arms.size(); ++i) {
    if (point < arms[i].weight) return i;
    point -= arms[i].weight;
  }
  return arms.size() - 1;
}

}  // namespace llmgate::proxy::routing

#include "control/ctl/route_text.h"

#include <string_view>

namespace llmgate::control::ctl {
namespace {

namespace v1 = ::llmgate::control::v1;

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

void add(std::string& out, std::string_view condition) {
  if (!out.empty()) out += ' ';
  out += condition;
}

std::string conditions(const v1::RouteRule& rule) {
  std::string out;
  if (rule.task_size() > 0) add(out, "task=" + joined(rule.task()));
  if (rule.has_min_prompt_tokens()) {
    add(out, "tokens>=" + std::to_string(rule.min_prompt_tokens()));
  }
  if (rule.has_max_prompt_tokens()) {
    add(out, "tokens<=" + std::to_string(rule.max_prompt_tokens()));
  }
  if (rule.has_tools()) add(out, rule.tools() ? "tools=true" : "tools=false");
  if (rule.response_format_types_size() > 0) {
    add(out, "response_format=" + joined(rule.response_format_types()));
  } else if (rule.has_response_format()) {
    add(out, rule.response_format() ? "response_format=true" : "response_format=false");
  }
  if (rule.tenant_size() > 0) add(out, "tenant=" + joined(rule.tenant()));
  if (rule.has_last_user_message()) {
    add(out, "last_user_message=/" + rule.last_user_message() + "/");
  }
  if (!rule.budget().empty()) add(out, "budget=" + rule.budget());
  return out.empty() ? std::string("(no condition)") : out;
}

}  // namespace

std::string ruleText(const v1::RouteRule& rule) {
  std::string out = conditions(rule) + " -> ";
  if (rule.split_size() == 0) return out + (rule.targets_size() > 0 ? joined(rule.targets()) : "-");
  out += "split ";
  for (int i = 0; i < rule.split_size(); ++i) {
    if (i > 0) out += " | ";
    out += std::to_string(rule.split(i).weight()) + ":" + joined(rule.split(i).targets());
  }
  return out;
}

}  // namespace llmgate::control::ctl

#include "proxy/providers/anthropic_adapter.h"

#include <chrono>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/text/str_cat.h"
#include "common/time/clock.h"
#include "proxy/providers/openai_adapter.h"

namespace llmgate::proxy::providers {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

std::string textOf(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string text;
  if (content.is_array()) {
    for (const auto& part : content.get_array()) {
      if (!part.is_object()) continue;
      const json::object& p = part.get_object();
      if (const auto* t = p.if_contains("text"); t && t->is_string()) text += t->get_string();
    }
  }
  return text;
}

// OpenAI content (string or parts) -> Anthropic content blocks.
json::array contentBlocks(const json::value& content) {
  json::array blocks;
  if (content.is_string()) {
    if (!content.get_string().empty()) {
      blocks.push_back(json::object{{"type", "text"}, {"text", content.get_string()}});
    }
    return blocks;
  }
  if (!content.is_array()) return blocks;
  for (const auto& part : content.get_array()) {
    if (!part.is_object()) continue;
    const json::object& p = part.get_object();
    const json::value* type = p.if_contains("type");
    if (type && type->is_string() && type->get_string() == "text") {
      blocks.push_back(json::object{{"type", "text"}, {"text", p.at("text")}});
    } else if (type && type->is_string() && type->get_string() == "image_url") {
      // data: URLs become base64 image blocks; remote URLs are passed as url sources.
      const json::value* image = p.if_contains("image_url");
      std::string url;
      if (image && image->is_object()) {
        if (const auto* u = image->get_object().if_contains("url"); u && u->is_string())
          url = std::string(u->get_string());
      }
      if (url.rfind("data:", 0) == 0 && url.find(";base64,") != std::string::npos) {
        const std::size_t semi = url.find(';');
        const std::size_t comma = url.find(',');
        blocks.push_back(
            json::object{{"type", "image"},
                         {"source", json::object{{"type", "base64"},
                                                 {"media_type", url.substr(5, semi - 5)},
                                                 {"data", url.substr(comma + 1)}}}});
      } else if (!url.empty()) {
        blocks.push_back(json::object{{"type", "image"},
                                      {"source", json::object{{"type", "url"}, {"url", url}}}});
      }
    }
  }
  return blocks;
}

json::value parseArguments(const json::value* arguments) {
  if (arguments == nullptr || !arguments->is_string()) return json::object{};
  boost::system::error_code ec;
  json::value v = json::parse(arguments->get_string(), ec);
  return !ec && v.is_object() ? v : json::value(json::object{});
}

// Appends to `messages`, merging consecutive same-role turns (Anthropic
// requires alternation; tool results ride in a user turn).
void appendTurn(json::array& messages, std::string_view role, json::array blocks) {
  if (blocks.empty()) return;
  if (!messages.empty()) {
    json::object& last = messages.back().get_object();
    if (last.at("role").get_string() == role) {
      json::array& content = last.at("content").get_array();
      for (auto& b : blocks) content.push_back(std::move(b));
      return;
    }
  }
  messages.push_back(json::object{{"role", role}, {"content", std::move(blocks)}});
}

json::object usageOf(const json::object& usage) {
  auto count = [&](std::string_view key) -> std::uint64_t {
    const json::value* v = usage.if_contains(key);
    return v && v->is_int64() && v->get_int64() > 0 ? static_cast<std::uint64_t>(v->get_int64())
           : v && v->is_uint64()                    ? v->get_uint64()
                                                    : 0;
  };
  const std::uint64_t cached = count("cache_read_input_tokens");
  const std::uint64_t prompt =
      count("input_tokens") + cached + count("cache_creation_input_tokens");
  const std::uint64_t completion = count("output_tokens");
  return json::object{{"prompt_tokens", prompt},
                      {"completion_tokens", completion},
                      {"total_tokens", prompt + completion},
                      {"prompt_tokens_details", json::object{{"cached_tokens", cached}}}};
}

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(time::systemNow().time_since_epoch())
      .count();
}

class AnthropicStreamTranslator final : public StreamTranslator {
 public:
  explicit AnthropicStreamTranslator(bool include_usage) : include_usage_(include_usage) {}

  std::string onEvent(std::string_view event_name, std::string_view data) override {
    boost::system::error_code ec;
    json::value parsed = json::parse(data, ec);
    if (ec || !parsed.is_object()) return {};
    const json::object& event = parsed.get_object();
    const json::value* type_value = event.if_contains("type");
    const std::string_view type = type_value && type_value->is_string()
                                      ? std::string_view(type_value->get_string())
                                      : event_name;
    if (type == "message_start") {
      if (const auto* m = event.if_contains("message"); m && m->is_object()) {
        const json::object& message = m->get_object();
        if (const auto* id = message.if_contains("id"); id && id->is_string())
          id_ = strCat("chatcmpl-", std::string_view(id->get_string()));
        if (const auto* model = message.if_contains("model"); model && model->is_string())
          model_ = std::string(model->get_string());
        if (const auto* u = message.if_contains("usage"); u && u->is_object())
          usage_ = u->get_object();
      }
      return chunk(json::object{{"role", "assistant"}, {"content", ""}}, nullptr);
    }
    if (type == "content_block_start") {
      const json::value* block = event.if_contains("content_block");
      if (block && block->is_object() && block->get_object().contains("name")) {
        const json::object& b = block->get_object();
        json::object call{{"index", tool_index_},
                          {"id", b.contains("id") ? b.at("id") : json::value("")},
                          {"type", "function"},
                          {"function", json::object{{"name", b.at("name")}, {"arguments", ""}}}};
        ++tool_index_;
        return chunk(json::object{{"tool_calls", json::array{std::move(call)}}}, nullptr);
      }
      return {};
    }
    if (type == "content_block_delta") {
      const json::value* d = event.if_contains("delta");
      if (d == nullptr || !d->is_object()) return {};
      const json::object& delta = d->get_object();
      if (const auto* text = delta.if_contains("text"); text && text->is_string()) {
        return chunk(json::object{{"content", *text}}, nullptr);
      }
      if (const auto* partial = delta.if_contains("partial_json");
          partial && partial->is_string()) {
        json::object call{{"index", tool_index_ - 1},
                          {"function", json::object{{"arguments", *partial}}}};
        return chunk(json::object{{"tool_calls", json::array{std::move(call)}}}, nullptr);
      }
      return {};
    }
    if (type == "message_delta") {
      if (const auto* u = event.if_contains("usage"); u && u->is_object()) {
        for (const auto& [k, v] : u->get_object()) usage_[k] = v;
      }
      std::string finish = "stop";
      if (const auto* d = event.if_contains("delta"); d && d->is_object()) {
        if (const auto* r = d->get_object().if_contains("stop_reason"); r && r->is_string())
          finish = std::string(finishReasonFor(r->get_string()));
      }
      json::value reason(finish);
      return chunk(json::object{}, &reason);
    }
    if (type == "message_stop") {
      finished_ = true;
      std::string out;
      if (include_usage_) {
        json::object usage_chunk = base();
        usage_chunk["choices"] = json::array{};
        usage_chunk["usage"] = usageOf(usage_);
        out = strCat("data: ", json::serialize(usage_chunk), "\n\n");
      }
      out += "data: [DONE]\n\n";
      return out;
    }
    if (type == "error") {
      failed_ = true;
      if (const auto* e = event.if_contains("error"); e && e->is_object()) {
        if (const auto* m = e->get_object().if_contains("message"); m && m->is_string())
          error_ = std::string(m->get_string());
      }
      return {};
    }
    return {};  // ping, content_block_stop, thinking deltas
  }

  bool finished() const override { return finished_; }
  bool failed() const override { return failed_; }
  std::string errorMessage() const override { return error_.empty() ? "error event" : error_; }

 private:
  json::object base() const {
    return json::object{{"id", id_.empty() ? std::string("chatcmpl-anthropic") : id_},
                        {"object", "chat.completion.chunk"},
                        {"created", created_},
                        {"model", model_}};
  }

  std::string chunk(json::object delta, const json::value* finish_reason) const {
    json::object c = base();
    c["choices"] = json::array{
        json::object{{"index", 0},
                     {"delta", std::move(delta)},
                     {"logprobs", nullptr},
                     {"finish_reason", finish_reason ? *finish_reason : json::value(nullptr)}}};
    if (include_usage_) c["usage"] = nullptr;
    return strCat("data: ", json::serialize(c), "\n\n");
  }

  bool include_usage_;
  std::string id_;
  std::string model_;
  std::int64_t created_ = nowSeconds();
  json::object usage_;
  int tool_index_ = 0;
  bool finished_ = false;
  bool failed_ = false;
  std::string error_;
};

}  // namespace

std::string_view finishReasonFor(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded")
    return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn
}

std::string AnthropicAdapter::chatPath(const config::ProviderConfig& provider) const {
  return strCat(provider.endpoint.base_path, "/v1/messages");
}

std::string AnthropicAdapter::embeddingsPath(const config::ProviderConfig& provider) const {
  return strCat(provider.endpoint.base_path, "/v1/embeddings");  // Anthropic has none: a 404
}

void AnthropicAdapter::prepareChatBody(json::object& body, const config::ModelConfig& model) const {
  json::object out;
  out["model"] = model.upstream_model;
  std::string system;
  json::array messages;
  if (const auto* list = body.if_contains("messages"); list && list->is_array()) {
    for (const auto& item : list->get_array()) {
      if (!item.is_object()) continue;
      const json::object& m = item.get_object();
      const std::string_view role = m.at("role").get_string();
      const json::value content = m.contains("content") ? m.at("content") : json::value(nullptr);
      if (role == "system" || role == "developer") {
        if (!system.empty()) system += "\n\n";
        system += textOf(content);
      } else if (role == "tool" || role == "function") {
        json::object result{
            {"type", "tool_result"},
            {"tool_use_id", m.contains("tool_call_id") ? m.at("tool_call_id") : json::value("")},
            {"content", textOf(content)}};
        appendTurn(messages, "user", json::array{std::move(result)});
      } else if (role == "assistant") {
        json::array blocks = contentBlocks(content);
        if (const auto* calls = m.if_contains("tool_calls"); calls && calls->is_array()) {
          for (const auto& c : calls->get_array()) {
            if (!c.is_object()) continue;
            const json::object& call = c.get_object();
            const json::value* fn = call.if_contains("function");
            if (fn == nullptr || !fn->is_object()) continue;
            blocks.push_back(json::object{
                {"type", "tool_use"},
                {"id", call.contains("id") ? call.at("id") : json::value("")},
                {"name",
                 fn->get_object().contains("name") ? fn->get_object().at("name") : json::value("")},
                {"input", parseArguments(fn->get_object().if_contains("arguments"))}});
          }
        }
        appendTurn(messages, "assistant", std::move(blocks));
      } else {
        appendTurn(messages, "user", contentBlocks(content));
      }
    }
  }
  if (!system.empty()) out["system"] = system;
  out["messages"] = std::move(messages);
  // Sampling: Anthropic's temperature range is 0..1 (OpenAI's 0..2).
  if (const auto* t = body.if_contains("temperature"); t && t->is_number()) {
    out["temperature"] = std::min(1.0, t->to_number<double>());
  }
  for (std::string_view key : {"top_p", "stream"}) {
    if (const auto* v = body.if_contains(key); v && !v->is_null()) out[key] = *v;
  }
  if (const auto* stop = body.if_contains("stop"); stop && !stop->is_null()) {
    out["stop_sequences"] = stop->is_string() ? json::value(json::array{*stop}) : *stop;
  }
  if (const auto* tools = body.if_contains("tools"); tools && tools->is_array()) {
    json::array converted;
    for (const auto& t : tools->get_array()) {
      if (!t.is_object()) continue;
      const json::value* fn = t.get_object().if_contains("function");
      if (fn == nullptr || !fn->is_object()) continue;
      const json::object& f = fn->get_object();
      json::object tool{{"name", f.contains("name") ? f.at("name") : json::value("")},
                        {"input_schema", f.contains("parameters")
                                             ? f.at("parameters")
                                             : json::value(json::object{{"type", "object"}})}};
      if (f.contains("description")) tool["description"] = f.at("description");
      converted.push_back(std::move(tool));
    }
    out["tools"] = std::move(converted);
  }
  if (const auto* choice = body.if_contains("tool_choice"); choice && !choice->is_null()) {
    if (choice->is_string()) {
      const std::string_view c = choice->get_string();
      if (c == "required")
        out["tool_choice"] = json::object{{"type", "any"}};
      else if (c == "none")
        out["tool_choice"] = json::object{{"type", "none"}};
      else
        out["tool_choice"] = json::object{{"type", "auto"}};
    } else if (choice->is_object()) {
      if (const auto* fn = choice->get_object().if_contains("function"); fn && fn->is_object()) {
        out["tool_choice"] = json::object{{"type", "tool"}, {"name", fn->get_object().at("name")}};
      }
    }
  }
  if (const auto* user = body.if_contains("user"); user && user->is_string()) {
    out["metadata"] = json::object{{"user_id", *user}};
  }
  // max_tokens is required; the handler sets the final value after this.
  out["max_tokens"] = model.max_output_tokens;
  body = std::move(out);
}

bool AnthropicAdapter::translateResponse(json::value& response) const {
  if (!response.is_object()) return false;
  const json::object& in = response.get_object();
  const json::value* content = in.if_contains("content");
  if (content == nullptr || !content->is_array()) return false;
  std::string text;
  json::array tool_calls;
  for (const auto& block : content->get_array()) {
    if (!block.is_object()) continue;
    const json::object& b = block.get_object();
    const json::value* type = b.if_contains("type");
    if (type == nullptr || !type->is_string()) continue;
    if (type->get_string() == "text" && b.contains("text") && b.at("text").is_string()) {
      text += b.at("text").get_string();
    } else if (type->get_string() == "tool_use") {
      tool_calls.push_back(json::object{
          {"id", b.contains("id") ? b.at("id") : json::value("")},
          {"type", "function"},
          {"function",
           json::object{{"name", b.contains("name") ? b.at("name") : json::value("")},
                        {"arguments",
                         json::serialize(b.contains("input") ? b.at("input")
                                                             : json::value(json::object{}))}}}});
    }
  }
  json::object message{{"role", "assistant"}, {"content", text}};
  if (!tool_calls.empty()) message["tool_calls"] = std::move(tool_calls);
  std::string_view stop = "end_turn";
  if (const auto* r = in.if_contains("stop_reason"); r && r->is_string()) stop = r->get_string();
  json::object out{{"id", strCat("chatcmpl-", in.contains("id") && in.at("id").is_string()
                                                  ? std::string_view(in.at("id").get_string())
                                                  : std::string_view("anthropic"))},
                   {"object", "chat.completion"},
                   {"created", nowSeconds()},
                   {"model", in.contains("model") ? in.at("model") : json::value("")},
                   {"choices", json::array{json::object{{"index", 0},
                                                        {"message", std::move(message)},
                                                        {"logprobs", nullptr},
                                                        {"finish_reason", finishReasonFor(stop)}}}},
                   {"usage", usageOf(in.contains("usage") && in.at("usage").is_object()
                                         ? in.at("usage").get_object()
                                         : json::object{})}};
  response = std::move(out);
  return true;
}

std::unique_ptr<StreamTranslator> AnthropicAdapter::newStreamTranslator(bool include_usage) const {
  return std::make_unique<AnthropicStreamTranslator>(include_usage);
}

void AnthropicAdapter::appendAuth(std::string& head, const config::ProviderConfig& provider) const {
  if (!provider.api_key.empty()) strAppend(head, "x-api-key: ", provider.api_key.value, "\r\n");
  head += "anthropic-version: 2023-06-01\r\n";
}

api::ApiError AnthropicAdapter::mapError(int status, const http::fields& headers,
                                         std::string_view body,
                                         const config::ProviderConfig& provider) const {
  // Same envelope fields (error.type / error.message) as OpenAI's; only the
  // quota signals differ: 402 billing_error, 429 enforced spend limits.
  static const OpenAiAdapter openai_style(config::ProviderKind::kAnthropic);
  const bool spend_limit = status == 429 && body.find("spend_limit") != std::string_view::npos;
  api::ApiError error = openai_style.mapError(spend_limit ? 402 : status, headers, body, provider);
  if (spend_limit) error.status = 429;
  return error;
}

}  // namespace llmgate::proxy::providers

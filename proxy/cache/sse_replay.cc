#include "proxy/cache/sse_replay.h"

#include <algorithm>
#include <string_view>

#include "boost/json/array.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"

namespace llmgate::proxy::cache {
namespace {

namespace bj = boost::json;

constexpr std::size_t kMaxDeltas = 4;       // content is split into at most this many
constexpr std::size_t kMinDeltaBytes = 64;  // and no piece shorter than this (but the last)

// Splits `text` into a few pieces, never inside a UTF-8 sequence.
std::vector<std::string_view> splitText(std::string_view text) {
  std::vector<std::string_view> out;
  const std::size_t target = std::max(kMinDeltaBytes, (text.size() + kMaxDeltas - 1) / kMaxDeltas);
  while (!text.empty()) {
    std::size_t cut = std::min(target, text.size());
    // Continuation bytes look like 10xxxxxx: back up to a lead byte.
    while (cut < text.size() && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    if (cut == 0) cut = text.size();  // not UTF-8 after all; keep it whole
    out.push_back(text.substr(0, cut));
    text.remove_prefix(cut);
  }
  return out;
}

class ChunkWriter {
 public:
  ChunkWriter(const bj::object& completion, bool include_usage) : include_usage_(include_usage) {
    base_["id"] = completion.contains("id") ? completion.at("id") : bj::value("chatcmpl-cached");
    base_["object"] = "chat.completion.chunk";
    base_["created"] = completion.contains("created") ? completion.at("created") : bj::value(0);
    base_["model"] = completion.contains("model") ? completion.at("model") : bj::value("");
    for (const char* field : {"system_fingerprint", "service_tier"}) {
      if (const auto* v = completion.if_contains(field)) base_[field] = *v;
    }
  }

  void choice(std::int64_t index, bj::object delta, const bj::value* logprobs = nullptr,
              const bj::value* finish_reason = nullptr) {
    bj::object choice;
    choice["index"] = index;
    choice["delta"] = std::move(delta);
    choice["logprobs"] = logprobs != nullptr ? *logprobs : bj::value(nullptr);
    choice["finish_reason"] = finish_reason != nullptr ? *finish_reason : bj::value(nullptr);
    bj::array choices;
    choices.push_back(std::move(choice));
    emit(std::move(choices), nullptr);
  }

  void usage(const bj::value& usage) { emit(bj::array(), &usage); }

  std::string finish() {
    out_.append("data: [DONE]\n\n");
    return std::move(out_);
  }

 private:
  void emit(bj::array choices, const bj::value* usage) {
    bj::object chunk = base_;
    chunk["choices"] = std::move(choices);
    if (include_usage_) chunk["usage"] = usage != nullptr ? *usage : bj::value(nullptr);
    out_.append("data: ");
    out_.append(bj::serialize(chunk));
    out_.append("\n\n");
  }

  bool include_usage_;
  bj::object base_;
  std::string out_;
};

void replayChoice(ChunkWriter& w, const bj::object& choice, std::int64_t fallback_index) {
  std::int64_t index = fallback_index;
  if (const auto* i = choice.if_contains("index"); i != nullptr && i->is_int64()) {
    index = i->get_int64();
  }
  static const bj::object kEmpty;
  const auto* message_value = choice.if_contains("message");
  const bj::object& message =
      message_value != nullptr && message_value->is_object() ? message_value->get_object() : kEmpty;
  const auto* logprobs = choice.if_contains("logprobs");
  if (logprobs != nullptr && logprobs->is_null()) logprobs = nullptr;

  bj::object role;
  role["role"] = message.contains("role") ? message.at("role") : bj::value("assistant");
  role["content"] = "";
  w.choice(index, std::move(role));

  for (const char* field : {"content", "refusal"}) {
    const auto* text = message.if_contains(field);
    if (text == nullptr || !text->is_string() || text->get_string().empty()) continue;
    for (std::string_view piece : splitText(text->get_string())) {
      bj::object delta;
      delta[field] = piece;
      w.choice(index, std::move(delta), logprobs);
      logprobs = nullptr;  // once, on the first content chunk
    }
  }
  if (logprobs != nullptr) w.choice(index, bj::object(), logprobs);

  if (const auto* calls = message.if_contains("tool_calls");
      calls != nullptr && calls->is_array()) {
    std::int64_t call_index = 0;
    for (const auto& call_value : calls->get_array()) {
      if (!call_value.is_object()) continue;
      const auto& call = call_value.get_object();
      const auto* function_value = call.if_contains("function");
      const bj::object& function = function_value != nullptr && function_value->is_object()
                                       ? function_value->get_object()
                                       : kEmpty;
      bj::object head_fn;
      head_fn["name"] = function.contains("name") ? function.at("name") : bj::value("");
      head_fn["arguments"] = "";
      bj::object head;
      head["index"] = call_index;
      if (const auto* id = call.if_contains("id")) head["id"] = *id;
      head["type"] = call.contains("type") ? call.at("type") : bj::value("function");
      head["function"] = std::move(head_fn);
      bj::array head_calls;
      head_calls.push_back(std::move(head));
      bj::object delta;
      delta["tool_calls"] = std::move(head_calls);
      w.choice(index, std::move(delta));

      const auto* args = function.if_contains("arguments");
      if (args != nullptr && args->is_string()) {
        for (std::string_view piece : splitText(args->get_string())) {
          bj::object fn;
          fn["arguments"] = piece;
          bj::object part;
          part["index"] = call_index;
          part["function"] = std::move(fn);
          bj::array part_calls;
          part_calls.push_back(std::move(part));
          bj::object args_delta;
          args_delta["tool_calls"] = std::move(part_calls);
          w.choice(index, std::move(args_delta));
        }
      }
      ++call_index;
    }
  }
  // Legacy function_call answers.
  if (const auto* fc = message.if_contains("function_call"); fc != nullptr && fc->is_object()) {
    bj::object delta;
    delta["function_call"] = *fc;
    w.choice(index, std::move(delta));
  }

  const auto* finish = choice.if_contains("finish_reason");
  static const bj::value kStop("stop");
  w.choice(index, bj::object(), nullptr, finish != nullptr && !finish->is_null() ? finish : &kStop);
}

}  // namespace

std::string toSseReplay(const CachedResponse& response, bool include_usage) {
  boost::system::error_code ec;
  bj::value parsed = bj::parse(response.body, ec);
  if (ec || !parsed.is_object()) return {};
  const auto& completion = parsed.get_object();
  const auto* choices = completion.if_contains("choices");
  if (choices == nullptr || !choices->is_array()) return {};

  ChunkWriter writer(completion, include_usage);
  std::int64_t i = 0;
  for (const auto& choice : choices->get_array()) {
    if (choice.is_object()) replayChoice(writer, choice.get_object(), i);
    ++i;
  }
  if (include_usage) {
    const auto* usage = completion.if_contains("usage");
    writer.usage(usage != nullptr ? *usage : bj::value(nullptr));
  }
  return writer.finish();
}

}  // namespace llmgate::proxy::cache

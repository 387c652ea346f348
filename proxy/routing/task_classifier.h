// Task classifier: which kind of work a chat request asks for, so routing
// rules (`when: {task: [...]}`) can send code to one model and poems to
// another. Deterministic (same body, same answer), fast (one RE2::Set pass
// over at most ~2 KiB of the last user message and ~1 KiB of the system
// prompt, plus a byte scan) and explainable: every signal that contributed is
// reported with its weight. docs/ROUTING.md lists the signals and the
// accuracy on tests/data/task_corpus.jsonl.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boost/json/object.hpp"

namespace llmgate::proxy::routing {

// Named as in the config (`strengths`, `routes[].rules[].when.task`) and the
// x-llmgate-task header.
enum class TaskClass : std::uint8_t {
  kCode,
  kStructured,
  kSummarize,
  kReasoning,
  kCreative,
  kChat
};
inline constexpr std::size_t kTaskClassCount = 6;

std::string_view toString(TaskClass task);
// "code", "structured", ... (exact, lowercase); nullopt otherwise.
std::optional<TaskClass> parseTaskClass(std::string_view name);

// One piece of evidence. `name` points at static storage.
struct TaskSignal {
  std::string_view name;
  TaskClass task;
  double weight;
};

struct Explanation {
  TaskClass task = TaskClass::kChat;
  std::array<double, kTaskClassCount> scores{};
  std::vector<TaskSignal> signals;  // in the order found
  // "task=code score=4.5 signals=code_fence:2.5,kw.code.en:2" — for debug logs.
  std::string toString() const;
};

// Classifies an OpenAI chat-completions body. Reads the system/developer
// messages, the last user message, `tools` and `response_format`. Never fails:
// a body without usable text is kChat. Thread-safe.
TaskClass classify(const boost::json::object& chat_body, Explanation* why = nullptr);

namespace internal {
// Keyword rules that failed to compile (-1: the set failed); tests expect 0.
int brokenTaskRules();
}  // namespace internal

}  // namespace llmgate::proxy::routing

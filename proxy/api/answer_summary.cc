#include "proxy/api/answer_summary.h"

#include <algorithm>
#include <cstring>

#include "boost/json/array.hpp"
#include "boost/json/basic_parser_impl.hpp"
#include "boost/json/error.hpp"
#include "boost/json/object.hpp"
#include "boost/json/string.hpp"

namespace llmgate::proxy::api {

void AnswerSummary::setFinishReason(std::string_view reason) {
  finish_reason_size_ = std::min(reason.size(), kMaxFinishReason);
  // (An empty view may hold a null pointer, which memcpy must not get.)
  if (finish_reason_size_ > 0)
    std::memcpy(finish_reason_.data(), reason.data(), finish_reason_size_);
}

namespace {

// Where the value being parsed goes.
enum class Slot : std::uint8_t {
  kNone,  // nowhere (an unknown key, or inside an ignored container)
  kRoot,
  kObject,  // top-level "object"
  kError,
  kChoices,
  kCreated,
  kUsage,
  kChoice,  // an element of "choices"
  kFinishReason,
  kMessage,
  kPromptTokens,  // usage.*
  kCompletionTokens,
  kDetails,
  kCacheHitTokens,
  kCachedTokens,  // usage.prompt_tokens_details.cached_tokens
};

// The containers whose members matter; any other container is skipped by
// depth count alone.
enum class Frame : std::uint8_t { kTop, kChoices, kChoice, kUsage, kDetails };

enum class Kind : std::uint8_t { kObject, kArray, kString, kInt64, kUint64, kOther };

Slot slotOf(Frame frame, std::string_view key) {
  switch (frame) {
    case Frame::kTop:
      if (key == "object") return Slot::kObject;
      if (key == "choices") return Slot::kChoices;
      if (key == "usage") return Slot::kUsage;
      if (key == "created") return Slot::kCreated;
      if (key == "error") return Slot::kError;
      return Slot::kNone;
    case Frame::kChoice:
      if (key == "finish_reason") return Slot::kFinishReason;
      if (key == "message") return Slot::kMessage;
      return Slot::kNone;
    case Frame::kUsage:
      if (key == "prompt_tokens") return Slot::kPromptTokens;
      if (key == "completion_tokens") return Slot::kCompletionTokens;
      if (key == "prompt_tokens_details") return Slot::kDetails;
      if (key == "prompt_cache_hit_tokens") return Slot::kCacheHitTokens;
      return Slot::kNone;
    case Frame::kDetails:
      return key == "cached_tokens" ? Slot::kCachedTokens : Slot::kNone;
    case Frame::kChoices:
      return Slot::kNone;
  }
  return Slot::kNone;
}

// A short string that may arrive in parts (escapes): kept up to the buffer's
// size, with a flag when it was longer.
class ShortText {
 public:
  void clear() {
    size_ = 0;
    overflow_ = false;
    active_ = false;
  }
  bool active() const { return active_; }
  void append(std::string_view part) {
    active_ = true;
    const std::size_t room = buffer_.size() - size_;
    if (part.size() > room) overflow_ = true;
    const std::size_t n = std::min(part.size(), room);
    if (n > 0) std::memcpy(buffer_.data() + size_, part.data(), n);  // never a null source
    size_ += n;
  }
  std::string_view view() const { return std::string_view(buffer_.data(), size_); }
  bool overflow() const { return overflow_; }

 private:
  std::array<char, AnswerSummary::kMaxFinishReason> buffer_{};
  std::size_t size_ = 0;
  bool overflow_ = false;
  bool active_ = false;
};

std::uint64_t countOf(Kind kind, std::int64_t i, std::uint64_t u) {
  if (kind == Kind::kUint64) return u;
  if (kind == Kind::kInt64 && i > 0) return static_cast<std::uint64_t>(i);
  return 0;
}

struct SummaryHandler {
  // As boost::json::parser's own handler, so the same documents fail.
  constexpr static std::size_t max_object_size = boost::json::object::max_size();
  constexpr static std::size_t max_array_size = boost::json::array::max_size();
  constexpr static std::size_t max_key_size = boost::json::string::max_size();
  constexpr static std::size_t max_string_size = boost::json::string::max_size();

  AnswerSummary out;
  bool usage_present = false;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t details_cached = 0;
  std::uint64_t cache_hit = 0;

  std::array<Frame, 4> frames{};
  std::array<Slot, 4> pending{};  // per open object frame: the slot of its current key
  std::size_t depth = 0;          // open frames
  std::size_t ignored = 0;        // open containers inside an ignored value

  // The choice being read.
  std::size_t choice_index = 0;
  bool choice_finished = false;  // finish_reason is a storable one
  bool choice_message = false;

  ShortText key;
  ShortText text;
  Slot text_slot = Slot::kNone;

  Slot nextSlot() const {
    if (ignored > 0) return Slot::kNone;
    if (depth == 0) return Slot::kRoot;
    const Frame top = frames[depth - 1];
    return top == Frame::kChoices ? Slot::kChoice : pending[depth - 1];
  }

  void push(Frame frame) {
    frames[depth] = frame;
    pending[depth] = Slot::kNone;
    ++depth;
  }

  // A value of `kind` arrived for `slot` (strings: see onText). Returns the
  // frame to open when the value is a container that matters.
  std::optional<Frame> onValue(Slot slot, Kind kind, std::int64_t i = 0, std::uint64_t u = 0) {
    switch (slot) {
      case Slot::kNone:
        break;
      case Slot::kRoot:
        out.is_object = kind == Kind::kObject;
        if (out.is_object) return Frame::kTop;
        break;
      case Slot::kObject:
        out.is_completion = false;
        break;
      case Slot::kError:
        out.has_error = true;
        break;
      case Slot::kChoices:
        out.choices_is_array = kind == Kind::kArray;
        out.choice_count = 0;
        out.all_choices_complete = true;
        out.setFinishReason({});
        if (out.choices_is_array) return Frame::kChoices;
        break;
      case Slot::kChoice:
        choice_index = out.choice_count++;
        choice_finished = false;
        choice_message = false;
        if (kind == Kind::kObject) return Frame::kChoice;
        out.all_choices_complete = false;
        break;
      case Slot::kFinishReason:
        choice_finished = false;
        if (choice_index == 0) out.setFinishReason({});
        break;
      case Slot::kMessage:
        choice_message = kind == Kind::kObject;
        break;
      case Slot::kCreated:
        out.created = kind == Kind::kInt64    ? i
                      : kind == Kind::kUint64 ? static_cast<std::int64_t>(u)
                                              : 0;
        break;
      case Slot::kUsage:
        usage_present = kind == Kind::kObject;
        prompt_tokens = completion_tokens = details_cached = cache_hit = 0;
        if (usage_present) return Frame::kUsage;
        break;
      case Slot::kPromptTokens:
        prompt_tokens = countOf(kind, i, u);
        break;
      case Slot::kCompletionTokens:
        completion_tokens = countOf(kind, i, u);
        break;
      case Slot::kCacheHitTokens:
        cache_hit = countOf(kind, i, u);
        break;
      case Slot::kDetails:
        details_cached = 0;
        if (kind == Kind::kObject) return Frame::kDetails;
        break;
      case Slot::kCachedTokens:
        details_cached = countOf(kind, i, u);
        break;
    }
    return std::nullopt;
  }

  void onText(Slot slot, std::string_view s, bool overflow) {
    if (slot == Slot::kObject) {
      out.is_completion = !overflow && s == "chat.completion";
    } else if (slot == Slot::kFinishReason) {
      choice_finished = !overflow && (s == "stop" || s == "tool_calls" || s == "function_call");
      if (choice_index == 0) out.setFinishReason(s);
    } else {
      onValue(slot, Kind::kString);
    }
  }

  void onContainerBegin(Kind kind) {
    if (ignored > 0) {
      ++ignored;
      return;
    }
    if (const std::optional<Frame> frame = onValue(nextSlot(), kind)) {
      push(*frame);
    } else {
      ++ignored;
    }
  }

  void onContainerEnd() {
    if (ignored > 0) {
      --ignored;
      return;
    }
    --depth;
    if (frames[depth] == Frame::kChoice && !(choice_finished && choice_message)) {
      out.all_choices_complete = false;
    }
  }

  AnswerSummary finish() {
    if (usage_present) {
      out.usage = Usage{
          .prompt_tokens = prompt_tokens,
          .cached_prompt_tokens = std::min(std::max(details_cached, cache_hit), prompt_tokens),
          .completion_tokens = completion_tokens};
    }
    return out;
  }

  using ec_t = boost::system::error_code;
  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_object_begin(ec_t&) {
    onContainerBegin(Kind::kObject);
    return true;
  }
  bool on_object_end(std::size_t, ec_t&) {
    onContainerEnd();
    return true;
  }
  bool on_array_begin(ec_t&) {
    onContainerBegin(Kind::kArray);
    return true;
  }
  bool on_array_end(std::size_t, ec_t&) {
    onContainerEnd();
    return true;
  }
  bool on_key_part(std::string_view s, std::size_t, ec_t&) {
    if (ignored == 0) key.append(s);
    return true;
  }
  bool on_key(std::string_view s, std::size_t, ec_t&) {
    if (ignored > 0) return true;
    Slot slot = Slot::kNone;
    if (key.active()) {  // escaped or split: the pieces were kept
      key.append(s);
      if (!key.overflow()) slot = slotOf(frames[depth - 1], key.view());
      key.clear();
    } else {
      slot = slotOf(frames[depth - 1], s);
    }
    pending[depth - 1] = slot;
    return true;
  }
  // Only the strings that are compared are kept; the others are only marked
  // as started, for their slot.
  void appendText(std::string_view s) {
    if (!text.active()) text_slot = nextSlot();
    const bool kept = text_slot == Slot::kObject || text_slot == Slot::kFinishReason;
    text.append(kept ? s : std::string_view());
  }
  bool on_string_part(std::string_view s, std::size_t, ec_t&) {
    appendText(s);
    return true;
  }
  bool on_string(std::string_view s, std::size_t, ec_t&) {
    if (!text.active()) {  // the usual case: the whole string at once, unescaped
      onText(nextSlot(), s, false);
      return true;
    }
    appendText(s);
    onText(text_slot, text.view(), text.overflow());
    text.clear();
    return true;
  }
  bool on_number_part(std::string_view, ec_t&) { return true; }
  bool on_int64(std::int64_t i, std::string_view, ec_t&) {
    onValue(nextSlot(), Kind::kInt64, i);
    return true;
  }
  bool on_uint64(std::uint64_t u, std::string_view, ec_t&) {
    onValue(nextSlot(), Kind::kUint64, 0, u);
    return true;
  }
  bool on_double(double, std::string_view, ec_t&) {
    onValue(nextSlot(), Kind::kOther);
    return true;
  }
  bool on_bool(bool, ec_t&) {
    onValue(nextSlot(), Kind::kOther);
    return true;
  }
  bool on_null(ec_t&) {
    onValue(nextSlot(), Kind::kOther);
    return true;
  }
  bool on_comment_part(std::string_view, ec_t&) { return true; }
  bool on_comment(std::string_view, ec_t&) { return true; }
};

}  // namespace

AnswerSummaryResult summarizeAnswer(std::string_view text) {
  AnswerSummaryResult result;
  boost::json::basic_parser<SummaryHandler> parser(boost::json::parse_options{});
  const std::size_t consumed = parser.write_some(false, text.data(), text.size(), result.error);
  if (result.error) return result;
  if (consumed < text.size()) {  // what boost::json::parse reports for it
    result.error = boost::json::error::extra_data;
    return result;
  }
  result.summary = parser.handler().finish();
  return result;
}

}  // namespace llmgate::proxy::api

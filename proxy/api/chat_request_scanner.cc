#include "proxy/api/chat_request_scanner.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>

#include "boost/container/small_vector.hpp"
#include "boost/json/basic_parser_impl.hpp"
#include "boost/json/error.hpp"
#include "boost/json/object.hpp"
#include "common/json/duplicate_keys.h"
#include "common/text/str_cat.h"
#include "proxy/api/request_checks.h"

namespace llmgate::proxy::api::detail {
namespace {

using Kind = JsonScalar::Kind;

constexpr std::array<std::string_view, 6> kRoles = {"system",    "developer", "user",
                                                    "assistant", "tool",      "function"};

// The top-level members the validation reads.
enum Field : std::uint8_t {
  // kForbiddenFields, in that order (the first one present is reported)
  kApiBase,
  kBaseUrl,
  kApiKey,
  kExtraHeaders,
  kApiVersion,
  kCustomLlmProvider,
  kProvider,
  kOrganization,
  kHeaders,
  // checked fields
  kModel,
  kMessages,
  kTemperature,
  kTopP,
  kPresencePenalty,
  kFrequencyPenalty,
  kN,
  kMaxTokens,
  kMaxCompletionTokens,
  kSeed,
  kTopLogprobs,
  kStream,
  kLogprobs,
  kStreamOptions,
  kTools,
  kResponseFormat,
  kLogitBias,
  kUser,
  kExtraBody,
  kStop,
  kFieldCount,
  kOtherField = kFieldCount,
};

static_assert(kModel == kForbiddenFields.size(), "the forbidden fields come first, in order");

// The Field named `key`: a switch on the length, then the few names of that
// length.
Field fieldOf(std::string_view key) {
  const auto is = [&](std::string_view name, Field field) {
    return key == name ? field : kOtherField;
  };
  const auto oneOf = [&](std::initializer_list<std::pair<std::string_view, Field>> names) {
    for (const auto& [name, field] : names) {
      if (key == name) return field;
    }
    return kOtherField;
  };
  switch (key.size()) {
    case 1:
      return is("n", kN);
    case 4:
      return oneOf({{"seed", kSeed}, {"user", kUser}, {"stop", kStop}});
    case 5:
      return oneOf({{"model", kModel}, {"top_p", kTopP}, {"tools", kTools}});
    case 6:
      return is("stream", kStream);
    case 7:
      return oneOf({{"api_key", kApiKey}, {"headers", kHeaders}});
    case 8:
      return oneOf({{"messages", kMessages},
                    {"logprobs", kLogprobs},
                    {"api_base", kApiBase},
                    {"base_url", kBaseUrl},
                    {"provider", kProvider}});
    case 10:
      return oneOf(
          {{"max_tokens", kMaxTokens}, {"logit_bias", kLogitBias}, {"extra_body", kExtraBody}});
    case 11:
      return oneOf({{"temperature", kTemperature}, {"api_version", kApiVersion}});
    case 12:
      return oneOf({{"top_logprobs", kTopLogprobs}, {"organization", kOrganization}});
    case 13:
      return is("extra_headers", kExtraHeaders);
    case 14:
      return is("stream_options", kStreamOptions);
    case 15:
      return is("response_format", kResponseFormat);
    case 16:
      return is("presence_penalty", kPresencePenalty);
    case 17:
      return is("frequency_penalty", kFrequencyPenalty);
    case 19:
      return is("custom_llm_provider", kCustomLlmProvider);
    case 21:
      return is("max_completion_tokens", kMaxCompletionTokens);
    default:
      return kOtherField;
  }
}

// The members of a message the validation and the estimate read.
enum class Member : std::uint8_t { kRole, kContent, kName, kToolCalls, kOther };

Member memberOf(std::string_view key) {
  switch (key.size()) {
    case 4:
      return key == "role" ? Member::kRole : key == "name" ? Member::kName : Member::kOther;
    case 7:
      return key == "content" ? Member::kContent : Member::kOther;
    case 10:
      return key == "tool_calls" ? Member::kToolCalls : Member::kOther;
    default:
      return Member::kOther;
  }
}

std::optional<std::int64_t> asInteger(const JsonScalar& v) {
  if (v.kind == Kind::kInt64) return v.int64;
  if (v.kind == Kind::kUint64) {
    return v.uint64 > static_cast<std::uint64_t>(INT64_MAX) ? std::optional<std::int64_t>(INT64_MAX)
                                                            : static_cast<std::int64_t>(v.uint64);
  }
  if (v.kind == Kind::kDouble) {
    const double d = v.number;
    if (std::floor(d) == d && std::fabs(d) < 9e15) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

bool absentOrNull(const JsonScalar& v) { return v.kind == Kind::kAbsent || v.kind == Kind::kNull; }

// Each check returns an error naming `key` when the member is present and wrong.
std::optional<ApiError> checkNumber(const JsonScalar& v, std::string_view key, double lo,
                                    double hi) {
  if (absentOrNull(v)) return std::nullopt;
  const auto n = v.asNumber();
  if (!n) {
    return ApiError::invalidRequest(strCat("`", key, "` must be a number between ", lo, " and ", hi,
                                           ", got ", kindName(v.kind), "."),
                                    std::string(key));
  }
  if (!(*n >= lo && *n <= hi)) {
    return ApiError::invalidRequest(
        strCat("`", key, "` must be between ", lo, " and ", hi, ", got ", *n, "."),
        std::string(key));
  }
  return std::nullopt;
}

std::optional<ApiError> checkInteger(const JsonScalar& v, std::string_view key, std::int64_t lo,
                                     std::int64_t hi) {
  if (absentOrNull(v)) return std::nullopt;
  const auto n = asInteger(v);
  if (!n) {
    return ApiError::invalidRequest(
        strCat("`", key, "` must be an integer, got ", kindName(v.kind), "."), std::string(key));
  }
  if (*n < lo || *n > hi) {
    return ApiError::invalidRequest(
        strCat("`", key, "` must be between ", lo, " and ", hi, ", got ", *n, "."),
        std::string(key));
  }
  return std::nullopt;
}

std::optional<ApiError> checkKind(const JsonScalar& v, std::string_view key, Kind kind,
                                  std::string_view expected) {
  if (absentOrNull(v)) return std::nullopt;
  if (v.kind != kind) {
    return ApiError::invalidRequest(
        strCat("`", key, "` must be ", expected, ", got ", kindName(v.kind), "."),
        std::string(key));
  }
  return std::nullopt;
}

// Where a value sits, as far as the validation cares: each open container's
// context, the top-level object's being kTop.
enum class Ctx : std::uint8_t {
  kTop,             // the request object
  kMessages,        // its `messages` array
  kMessage,         // a message object
  kContent,         // a message's `content` array
  kPart,            // a content part object
  kStreamOptions,   // the `stream_options` object
  kExtraBody,       // the `extra_body` object
  kStop,            // the `stop` array
  kResponseFormat,  // the `response_format` object
  kOther,           // anything else: only its syntax and keys are checked
};

// The facts of the message being read.
struct MessageFacts {
  Kind role = Kind::kAbsent;
  int role_index = -1;  // in kRoles; -1 for another string
  Kind content = Kind::kAbsent;
  std::size_t parts = 0;  // content parts seen
  std::optional<std::size_t> bad_part;
  bool part_has_type = false;  // of the part being read
};

// The SAX handler (boost::json::basic_parser's interface).
class Scanner {
 public:
  constexpr static std::size_t max_object_size = boost::json::object::max_size();
  constexpr static std::size_t max_array_size = boost::json::array::max_size();
  constexpr static std::size_t max_key_size = boost::json::string::max_size();
  constexpr static std::size_t max_string_size = boost::json::string::max_size();

  Scanner(std::string_view input, ChatRequest& req) : input_(input), keys_(input), req_(req) {}

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    keys_.objectBegin();
    contexts_.push_back(onValue(JsonScalar{.kind = Kind::kObject}, {}, false));
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    keys_.objectEnd();
    onClose();
    return true;
  }
  bool on_array_begin(boost::system::error_code&) {
    contexts_.push_back(onValue(JsonScalar{.kind = Kind::kArray}, {}, false));
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code&) {
    onClose();
    return true;
  }
  bool on_key_part(std::string_view part, std::size_t, boost::system::error_code&) {
    keys_.keyPart(part);
    return true;
  }
  bool on_key(std::string_view part, std::size_t, boost::system::error_code& ec) {
    json::DuplicateKeys::Key key;
    if (!keys_.key(part, key)) {
      ec = boost::json::error::syntax;
      return false;
    }
    key_ = key.text;
    // What the key names in its object, found once here for the value's handler.
    switch (contexts_.back()) {
      case Ctx::kTop:
        key_field_ = fieldOf(key.text);
        if (!key.escaped) {
          // A key view points at its first character, just after the quote.
          const std::size_t at = static_cast<std::size_t>(key.text.data() - input_.data()) - 1;
          if (key_field_ == kModel) req_.key_at.model = at;
          if (key_field_ == kMaxTokens) req_.key_at.max_tokens = at;
          if (key_field_ == kMaxCompletionTokens) req_.key_at.max_completion_tokens = at;
        }
        break;
      case Ctx::kExtraBody:
        if (const Field f = fieldOf(key.text); f < kModel) extra_forbidden_ |= 1u << f;
        break;
      case Ctx::kMessage:
        member_ = memberOf(key.text);
        break;
      default:
        break;
    }
    return true;
  }
  bool on_string_part(std::string_view s, std::size_t, boost::system::error_code&) {
    string_parts_.append(s);
    in_string_parts_ = true;
    return true;
  }
  bool on_string(std::string_view s, std::size_t, boost::system::error_code&) {
    const bool escaped = in_string_parts_ || !keys_.inInput(s);
    std::string_view text = s;
    if (in_string_parts_) {
      string_parts_.append(s);
      text = string_parts_;
    }
    onValue(JsonScalar{.kind = Kind::kString}, text, escaped);
    string_parts_.clear();
    in_string_parts_ = false;
    return true;
  }
  bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t i, std::string_view, boost::system::error_code&) {
    onValue(JsonScalar{.kind = Kind::kInt64, .int64 = i}, {}, false);
    return true;
  }
  bool on_uint64(std::uint64_t u, std::string_view, boost::system::error_code&) {
    onValue(JsonScalar{.kind = Kind::kUint64, .uint64 = u}, {}, false);
    return true;
  }
  bool on_double(double d, std::string_view, boost::system::error_code&) {
    onValue(JsonScalar{.kind = Kind::kDouble, .number = d}, {}, false);
    return true;
  }
  bool on_bool(bool b, boost::system::error_code&) {
    onValue(JsonScalar{.kind = Kind::kBool, .boolean = b}, {}, false);
    return true;
  }
  bool on_null(boost::system::error_code&) {
    onValue(JsonScalar{.kind = Kind::kNull}, {}, false);
    return true;
  }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }

  const json::DuplicateKeys& keys() const { return keys_; }

  // After a successful parse: the client's error, if any, checked in this
  // order so that a body with several mistakes gets the first one's.
  std::optional<ApiError> verdict() {
    if (root_ != Kind::kObject) {
      return ApiError::invalidJson(strCat("the top level is ", kindName(root_), ", not an object"));
    }
    const JsonScalar& model = fields_[kModel];
    if (!model.present()) return modelRequired();
    if (model.kind != Kind::kString || !validModelName(req_.model)) return modelNotAString();
    if (auto e = firstError()) return e;
    if (fields_[kExtraBody].kind == Kind::kObject && extra_forbidden_ != 0) {
      const int first = std::countr_zero(extra_forbidden_);
      return forbiddenParameter("extra_body.", kForbiddenFields[static_cast<std::size_t>(first)]);
    }
    if (fields_[kStream].kind == Kind::kBool) req_.stream = fields_[kStream].boolean;
    if (fields_[kStreamOptions].kind == Kind::kObject && include_usage_.present()) {
      if (include_usage_.kind != Kind::kBool) {
        return ApiError::invalidRequest("`stream_options.include_usage` must be a boolean.",
                                        "stream_options.include_usage");
      }
      req_.include_usage = include_usage_.boolean;
    }
    for (const Field f : {kMaxCompletionTokens, kMaxTokens}) {
      if (!absentOrNull(fields_[f])) {
        req_.max_tokens = asInteger(fields_[f]);
        break;
      }
    }
    req_.has_max_completion_tokens = fields_[kMaxCompletionTokens].present();
    req_.has_max_tokens = fields_[kMaxTokens].present();
    req_.n = fields_[kN];
    req_.temperature = fields_[kTemperature];
    req_.seed = fields_[kSeed];
    return std::nullopt;
  }

 private:
  std::optional<ApiError> firstError() const {
    const auto& f = fields_;
    for (std::size_t i = 0; i < kForbiddenFields.size(); ++i) {
      if (f[i].present()) return forbiddenParameter("", kForbiddenFields[i]);
    }
    if (auto e = checkMessages()) return e;
    if (auto e = checkNumber(f[kTemperature], "temperature", 0, 2)) return e;
    if (auto e = checkNumber(f[kTopP], "top_p", 0, 1)) return e;
    if (auto e = checkNumber(f[kPresencePenalty], "presence_penalty", -2, 2)) return e;
    if (auto e = checkNumber(f[kFrequencyPenalty], "frequency_penalty", -2, 2)) return e;
    if (auto e = checkInteger(f[kN], "n", 1, 128)) return e;
    if (auto e = checkInteger(f[kMaxTokens], "max_tokens", 1, 100'000'000)) return e;
    if (auto e = checkInteger(f[kMaxCompletionTokens], "max_completion_tokens", 1, 100'000'000)) {
      return e;
    }
    if (auto e = checkInteger(f[kSeed], "seed", INT64_MIN, INT64_MAX)) return e;
    if (auto e = checkInteger(f[kTopLogprobs], "top_logprobs", 0, 20)) return e;
    if (auto e = checkKind(f[kStream], "stream", Kind::kBool, "a boolean")) return e;
    if (auto e = checkKind(f[kLogprobs], "logprobs", Kind::kBool, "a boolean")) return e;
    if (auto e = checkKind(f[kStreamOptions], "stream_options", Kind::kObject, "an object")) {
      return e;
    }
    if (auto e = checkKind(f[kTools], "tools", Kind::kArray, "an array")) return e;
    if (auto e = checkKind(f[kResponseFormat], "response_format", Kind::kObject, "an object")) {
      return e;
    }
    if (auto e = checkKind(f[kLogitBias], "logit_bias", Kind::kObject, "an object")) return e;
    if (auto e = checkKind(f[kUser], "user", Kind::kString, "a string")) return e;
    if (auto e = checkKind(f[kExtraBody], "extra_body", Kind::kObject, "an object")) return e;
    return checkStop();
  }

  std::optional<ApiError> checkMessages() const {
    const JsonScalar& v = fields_[kMessages];
    if (!v.present()) {
      return ApiError::invalidRequest("`messages` is required: an array of chat messages.",
                                      "messages");
    }
    if (v.kind != Kind::kArray) {
      return ApiError::invalidRequest(
          strCat("`messages` must be an array, got ", kindName(v.kind), "."), "messages");
    }
    if (messages_ == 0) {
      return ApiError::invalidRequest("`messages` must contain at least one message.", "messages");
    }
    return message_error_;
  }

  std::optional<ApiError> checkStop() const {
    const JsonScalar& v = fields_[kStop];
    if (absentOrNull(v) || v.kind == Kind::kString) return std::nullopt;
    if (v.kind == Kind::kArray && stop_count_ <= 4 && stop_all_strings_) return std::nullopt;
    return ApiError::invalidRequest("`stop` must be a string or an array of at most 4 strings.",
                                    "stop");
  }

  std::string messagePath() const { return strCat("messages[", messages_ - 1, "]"); }

  // The message just read: its error, unless an earlier message had one.
  void finishMessage() {
    if (message_error_) return;
    const MessageFacts& m = message_;
    if (m.role != Kind::kString) {
      const std::string path = messagePath();
      message_error_ = ApiError::invalidRequest(
          strCat("`", path, ".role` is required and must be a string."), strCat(path, ".role"));
      return;
    }
    if (m.role_index < 0) {
      const std::string path = messagePath();
      message_error_ = ApiError::invalidRequest(
          strCat("`", path,
                 ".role` must be one of system, developer, user, assistant, tool, function."),
          strCat(path, ".role"));
      return;
    }
    const std::string_view role = kRoles[static_cast<std::size_t>(m.role_index)];
    const bool may_omit_content = role == "assistant" || role == "tool" || role == "function";
    if (absentOrNull(JsonScalar{.kind = m.content})) {
      if (!may_omit_content) {
        const std::string path = messagePath();
        message_error_ = ApiError::invalidRequest(strCat("`", path, ".content` is required."),
                                                  strCat(path, ".content"));
      }
    } else if (m.content != Kind::kString && m.content != Kind::kArray) {
      const std::string path = messagePath();
      message_error_ = ApiError::invalidRequest(
          strCat("`", path, ".content` must be a string or an array of content parts, got ",
                 kindName(m.content), "."),
          strCat(path, ".content"));
    } else if (m.content == Kind::kArray && m.bad_part) {
      const std::string part_path = strCat(messagePath(), ".content[", *m.bad_part, "]");
      message_error_ = ApiError::invalidRequest(
          strCat("`", part_path, "` must be an object with a `type`."), part_path);
    }
  }

  void addPromptText(std::string_view text, bool escaped) {
    if (escaped) {
      req_.prompt.escaped.append(text);
    } else {
      req_.prompt.texts.push_back(text);
    }
  }

  // A value (for a container: its start) in the innermost open container;
  // the context of the container it starts. `text`: a string's text.
  Ctx onValue(const JsonScalar& v, std::string_view text, bool escaped) {
    if (contexts_.empty()) {  // the document's value
      root_ = v.kind;
      return v.kind == Kind::kObject ? Ctx::kTop : Ctx::kOther;
    }
    switch (contexts_.back()) {
      case Ctx::kTop:
        return onTopLevel(v, text);
      case Ctx::kMessages:
        ++messages_;
        if (v.kind != Kind::kObject) {
          if (!message_error_) {
            const std::string path = messagePath();
            message_error_ = ApiError::invalidRequest(
                strCat("`", path, "` must be an object, got ", kindName(v.kind), "."), path);
          }
          return Ctx::kOther;
        }
        message_ = MessageFacts{};
        ++req_.prompt.messages;
        return Ctx::kMessage;
      case Ctx::kMessage:
        switch (member_) {
          case Member::kRole:
            message_.role = v.kind;
            if (v.kind == Kind::kString) {
              const auto* it = std::find(kRoles.begin(), kRoles.end(), text);
              message_.role_index = it == kRoles.end() ? -1 : static_cast<int>(it - kRoles.begin());
            }
            break;
          case Member::kContent:
            message_.content = v.kind;
            if (v.kind == Kind::kString) addPromptText(text, escaped);
            if (v.kind == Kind::kArray) return Ctx::kContent;
            break;
          case Member::kName:
            if (v.kind == Kind::kString) {
              ++req_.prompt.names;
              addPromptText(text, escaped);
            }
            break;
          case Member::kToolCalls:
            req_.prompt.needs_dom = true;
            break;
          case Member::kOther:
            break;
        }
        return Ctx::kOther;
      case Ctx::kContent:
        ++message_.parts;
        if (v.kind != Kind::kObject) {
          if (!message_.bad_part) message_.bad_part = message_.parts - 1;
          return Ctx::kOther;
        }
        message_.part_has_type = false;
        return Ctx::kPart;
      case Ctx::kPart:
        if (key_ == "type") message_.part_has_type = true;
        if (key_ == "text" && v.kind == Kind::kString) addPromptText(text, escaped);
        return Ctx::kOther;
      case Ctx::kStreamOptions:
        if (key_ == "include_usage") include_usage_ = v;
        return Ctx::kOther;
      case Ctx::kStop:
        ++stop_count_;
        stop_all_strings_ = stop_all_strings_ && v.kind == Kind::kString;
        return Ctx::kOther;
      case Ctx::kResponseFormat:
        if (key_ == "json_schema") req_.prompt.needs_dom = true;
        return Ctx::kOther;
      case Ctx::kExtraBody:
      case Ctx::kOther:
        return Ctx::kOther;
    }
    return Ctx::kOther;
  }

  Ctx onTopLevel(const JsonScalar& v, std::string_view text) {
    const Field f = key_field_;
    if (f == kOtherField) return Ctx::kOther;
    fields_[f] = v;
    switch (f) {
      case kModel:
        if (v.kind == Kind::kString) req_.model = std::string(text);
        return Ctx::kOther;
      case kMessages:
        return v.kind == Kind::kArray ? Ctx::kMessages : Ctx::kOther;
      case kStreamOptions:
        return v.kind == Kind::kObject ? Ctx::kStreamOptions : Ctx::kOther;
      case kExtraBody:
        return v.kind == Kind::kObject ? Ctx::kExtraBody : Ctx::kOther;
      case kStop:
        return v.kind == Kind::kArray ? Ctx::kStop : Ctx::kOther;
      case kResponseFormat:
        return v.kind == Kind::kObject ? Ctx::kResponseFormat : Ctx::kOther;
      case kTools:
        req_.prompt.needs_dom = true;
        return Ctx::kOther;
      default:
        return Ctx::kOther;
    }
  }

  // The innermost open container ends.
  void onClose() {
    const Ctx closed = contexts_.back();
    contexts_.pop_back();
    if (closed == Ctx::kMessage) finishMessage();
    if (closed == Ctx::kPart && !message_.part_has_type && !message_.bad_part) {
      message_.bad_part = message_.parts - 1;
    }
  }

  std::string_view input_;
  json::DuplicateKeys keys_;
  ChatRequest& req_;
  boost::container::small_vector<Ctx, 16> contexts_;  // of the open containers
  Kind root_ = Kind::kAbsent;
  std::string_view key_;            // of the member being read, in the innermost object
  Field key_field_ = kOtherField;   // key_ in the request object
  Member member_ = Member::kOther;  // key_ in a message
  std::array<JsonScalar, kFieldCount> fields_{};
  std::uint32_t extra_forbidden_ = 0;  // bit i: kForbiddenFields[i] is in extra_body
  std::string string_parts_;           // a string delivered in parts (escaped or long)
  bool in_string_parts_ = false;
  std::size_t messages_ = 0;  // elements of `messages` seen
  MessageFacts message_;
  std::optional<ApiError> message_error_;  // the first message's error
  JsonScalar include_usage_;
  std::size_t stop_count_ = 0;
  bool stop_all_strings_ = true;
};

}  // namespace

std::optional<ApiError> scanChatRequest(std::string_view body, ChatRequest& req) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::json::basic_parser<Scanner> parser(options, body, req);
  boost::system::error_code ec;
  const std::size_t consumed = parser.write_some(false, body.data(), body.size(), ec);
  // The strict parser's messages (llmgate::json::parseStrict), word for word.
  if (ec) {
    if (!parser.handler().keys().duplicate().empty()) {
      return ApiError::invalidJson(
          strCat("duplicate key \"", parser.handler().keys().duplicate(), "\""));
    }
    return ApiError::invalidJson(strCat(ec.message(), " at offset ", consumed));
  }
  if (consumed < body.size()) {
    return ApiError::invalidJson(
        boost::json::make_error_code(boost::json::error::extra_data).message());
  }
  return parser.handler().verdict();
}

}  // namespace llmgate::proxy::api::detail

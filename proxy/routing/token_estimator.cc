#include "proxy/routing/token_estimator.h"

#include <algorithm>
#include <cmath>
#include <functional>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "boost/json/serialize.hpp"

namespace llmgate::proxy::routing {
namespace {

// Decodes one scalar from the front of `s` and advances it; invalid or
// truncated sequences yield U+FFFD and consume one byte.
char32_t nextScalar(std::string_view& s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) {
    s.remove_prefix(1);
    return b0;
  }
  int len = 0;
  char32_t c = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    c = b0 & 0x07;
  } else {
    s.remove_prefix(1);
    return 0xFFFD;
  }
  if (s.size() < static_cast<std::size_t>(len)) {
    s.remove_prefix(1);
    return 0xFFFD;
  }
  for (int i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) {
      s.remove_prefix(1);
      return 0xFFFD;
    }
    c = (c << 6) | (b & 0x3F);
  }
  s.remove_prefix(len);
  return c;
}

// Per Unicode scalar, uncalibrated. Sources (docs/ROUTING.md, "Token estimate"):
// PROVIDERS.md §6.4 — DeepSeek publishes 0.3 tok/char English, 0.6 Chinese;
// measured DeepSeek-V3 / o200k / cl100k: English prose 0.19/0.18/0.18 (spaces
// included), Chinese 0.59/0.72/0.99, Japanese 0.70, Russian 0.29/0.25/0.39,
// C++ 0.33, JSON 0.27. Arabic, Devanagari and Thai have no figure there: the
// values below are deliberately conservative assumptions that calibration
// corrects per model.
constexpr std::array<double, kScriptCount> kTokensPerChar = {
    0.25,  // kLatin: letters; with spaces and punctuation English prose comes to ~0.24
    0.70,  // kCjk: PROVIDERS.md's pre-flight guard figure (DeepSeek 0.59-0.70, cl100k ~1.0)
    0.33,  // kCyrillic: between DeepSeek 0.29 and cl100k 0.39
    0.40,  // kArabic: assumed
    0.55,  // kDevanagari: assumed (combining signs count as characters)
    0.55,  // kThai: assumed
    0.50,  // kCode: digits (<=3 per token) and ASCII punctuation
    0.15,  // kWhitespace: mostly merged into the following word
    1.00,  // kSymbol: emoji and pictographs are often 1-3 tokens each
    0.50,  // kOther
};

constexpr double kPerMessageOverhead = 4;  // role and separators (OpenAI cookbook: 3, +1 name)
constexpr double kReplyPrimer = 3;
constexpr double kMinRatio = 0.5;
constexpr double kMaxRatio = 2.0;

void addContent(const boost::json::value& content, ScriptCounts& counts) {
  if (content.is_string()) {
    counts.add(content.get_string());
    return;
  }
  if (!content.is_array()) return;
  for (const auto& part : content.get_array()) {
    if (!part.is_object()) continue;
    if (const auto* text = part.get_object().if_contains("text"); text && text->is_string()) {
      counts.add(text->get_string());
    }
  }
}

double tokensOf(const ScriptCounts& counts) {
  double tokens = 0;
  for (std::size_t i = 0; i < kScriptCount; ++i) tokens += counts.chars[i] * kTokensPerChar[i];
  return tokens;
}

}  // namespace

const char* toString(Script script) {
  switch (script) {
    case Script::kLatin:
      return "latin";
    case Script::kCjk:
      return "cjk";
    case Script::kCyrillic:
      return "cyrillic";
    case Script::kArabic:
      return "arabic";
    case Script::kDevanagari:
      return "devanagari";
    case Script::kThai:
      return "thai";
    case Script::kCode:
      return "code";
    case Script::kWhitespace:
      return "whitespace";
    case Script::kSymbol:
      return "symbol";
    case Script::kOther:
      return "other";
  }
  return "other";
}

Script scriptOf(char32_t c) {
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return Script::kLatin;
    if (c <= 0x20 || c == 0x7F) return Script::kWhitespace;
    return Script::kCode;
  }
  if (c < 0xC0) return c == 0xA0 ? Script::kWhitespace : Script::kCode;
  if (c < 0x250 || (c >= 0x1E00 && c < 0x1F00)) return Script::kLatin;
  if (c >= 0x400 && c < 0x530) return Script::kCyrillic;
  if ((c >= 0x600 && c < 0x700) || (c >= 0x750 && c < 0x780) || (c >= 0x8A0 && c < 0x900) ||
      (c >= 0xFB50 && c < 0xFE00) || (c >= 0xFE70 && c < 0xFF00)) {
    return Script::kArabic;
  }
  if ((c >= 0x900 && c < 0x980) || (c >= 0xA8E0 && c < 0xA900)) return Script::kDevanagari;
  if (c >= 0xE00 && c < 0xE80) return Script::kThai;
  if ((c >= 0x1100 && c < 0x1200) || (c >= 0x2E80 && c < 0x2FE0) || (c >= 0x3000 && c < 0xA000) ||
      (c >= 0xAC00 && c < 0xD7B0) || (c >= 0xF900 && c < 0xFB00) || (c >= 0xFF00 && c < 0xFFF0) ||
      (c >= 0x20000 && c < 0x30000)) {
    return Script::kCjk;
  }
  if (c >= 0x2000 && c < 0x2070) return c <= 0x200B ? Script::kWhitespace : Script::kCode;
  if ((c >= 0x2100 && c < 0x2C00) || (c >= 0x1F000 && c < 0x1FB00)) return Script::kSymbol;
  return Script::kOther;
}

namespace {

// scriptOf() of each ASCII byte (same rules), looked up instead of branched on.
constexpr std::array<std::uint8_t, 128> kAsciiScript = [] {
  std::array<std::uint8_t, 128> table{};
  for (unsigned c = 0; c < 128; ++c) {
    Script script = Script::kCode;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      script = Script::kLatin;
    } else if (c <= 0x20 || c == 0x7F) {
      script = Script::kWhitespace;
    }
    table[c] = static_cast<std::uint8_t>(script);
  }
  return table;
}();

}  // namespace

void ScriptCounts::addScalar(std::string_view utf8) {
  while (!utf8.empty()) {
    // ASCII fast path: most prompts are mostly ASCII.
    std::size_t i = 0;
    const std::size_t n = utf8.size();
    while (i < n && static_cast<unsigned char>(utf8[i]) < 0x80) {
      ++chars[kAsciiScript[static_cast<unsigned char>(utf8[i])]];
      ++i;
    }
    utf8.remove_prefix(i);
    if (!utf8.empty()) ++chars[static_cast<std::size_t>(scriptOf(nextScalar(utf8)))];
  }
}

#if defined(__SSE2__)

namespace {

// Per-lane byte counters of ASCII letters, whitespace and all ASCII bytes
// (code = the rest), summed into 64-bit totals before a lane can overflow.
class AsciiLanes {
 public:
  // Counts the lanes [from, to) of `v`, all ASCII.
  void add(__m128i v, int from, int to) {
    const __m128i lane = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m128i in =
        _mm_and_si128(_mm_cmpgt_epi8(lane, _mm_set1_epi8(static_cast<char>(from - 1))),
                      _mm_cmplt_epi8(lane, _mm_set1_epi8(static_cast<char>(to))));
    addMasked(v, in);
  }
  void addAll(__m128i v) { addMasked(v, _mm_set1_epi8(-1)); }

  void flushInto(std::array<std::uint64_t, kScriptCount>& chars) {
    const std::uint64_t letters = sum(letters_);
    const std::uint64_t spaces = sum(spaces_);
    chars[static_cast<std::size_t>(Script::kLatin)] += letters;
    chars[static_cast<std::size_t>(Script::kWhitespace)] += spaces;
    chars[static_cast<std::size_t>(Script::kCode)] += sum(ascii_) - letters - spaces;
    letters_ = spaces_ = ascii_ = _mm_setzero_si128();
    rounds_ = 0;
  }
  bool full() const { return rounds_ == 255; }

 private:
  // `in`: 0xFF in the lanes to count. Lanes hold ASCII (0..127), so signed
  // byte compares are exact.
  void addMasked(__m128i v, __m128i in) {
    const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
    const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                         _mm_cmplt_epi8(lower, _mm_set1_epi8('z' + 1)));
    const __m128i space = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x21)),
                                       _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F)));
    // A compare gives -1 per true lane: subtracting it adds 1.
    letters_ = _mm_sub_epi8(letters_, _mm_and_si128(letter, in));
    spaces_ = _mm_sub_epi8(spaces_, _mm_and_si128(space, in));
    ascii_ = _mm_sub_epi8(ascii_, in);
    ++rounds_;
  }
  static std::uint64_t sum(__m128i counts) {
    const __m128i halves = _mm_sad_epu8(counts, _mm_setzero_si128());
    return static_cast<std::uint64_t>(_mm_cvtsi128_si32(halves)) +
           static_cast<std::uint64_t>(_mm_cvtsi128_si32(_mm_srli_si128(halves, 8)));
  }

  __m128i letters_ = _mm_setzero_si128();
  __m128i spaces_ = _mm_setzero_si128();
  __m128i ascii_ = _mm_setzero_si128();
  int rounds_ = 0;
};

__m128i load16(const char* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

}  // namespace

void ScriptCounts::add(std::string_view utf8) {
  const std::size_t n = utf8.size();
  if (n < 16) {
    addScalar(utf8);
    return;
  }
  const char* const p = utf8.data();
  AsciiLanes lanes;
  std::size_t i = 0;
  while (i < n) {
    if (lanes.full()) lanes.flushInto(chars);
    // The 16 bytes from i, or for the last few the string's last 16 bytes
    // with the lanes before i (counted already) left out.
    const bool whole = i + 16 <= n;
    const int from = whole ? 0 : static_cast<int>(i + 16 - n);
    const __m128i v = load16(whole ? p + i : p + n - 16);
    const unsigned high = static_cast<unsigned>(_mm_movemask_epi8(v)) & (0xFFFFu << from);
    if (high == 0) {
      if (whole) {
        lanes.addAll(v);
      } else {
        lanes.add(v, from, 16);
      }
      i += static_cast<std::size_t>(16 - from);
      continue;
    }
    const int to = __builtin_ctz(high);  // the first non-ASCII lane
    if (to > from) lanes.add(v, from, to);
    i += static_cast<std::size_t>(to - from);
    std::string_view rest = utf8.substr(i);
    ++chars[static_cast<std::size_t>(scriptOf(nextScalar(rest)))];
    i = n - rest.size();
  }
  lanes.flushInto(chars);
}

#else

void ScriptCounts::add(std::string_view utf8) { addScalar(utf8); }

#endif

std::uint64_t ScriptCounts::total() const {
  std::uint64_t n = 0;
  for (auto c : chars) n += c;
  return n;
}

std::optional<Script> ScriptCounts::dominant() const {
  const std::uint64_t visible = total() - chars[static_cast<std::size_t>(Script::kWhitespace)];
  if (visible == 0) return std::nullopt;
  for (std::size_t i = 0; i < kScriptCount; ++i) {
    if (i == static_cast<std::size_t>(Script::kWhitespace)) continue;
    if (chars[i] * 10 >= visible * 6) return static_cast<Script>(i);
  }
  return std::nullopt;
}

double tokensPerChar(Script script) { return kTokensPerChar[static_cast<std::size_t>(script)]; }

double estimateTextTokens(std::string_view utf8) {
  ScriptCounts counts;
  counts.add(utf8);
  return tokensOf(counts);
}

PromptEstimate estimatePrompt(const boost::json::object& chat_body) {
  // One walk over each object (its members are unique) rather than a hashed
  // lookup per key read.
  PromptEstimate out;
  double overhead = kReplyPrimer;
  for (const auto& top : chat_body) {
    const std::string_view key = top.key();
    const boost::json::value& value = top.value();
    if (key == "messages" && value.is_array()) {
      for (const auto& m : value.get_array()) {
        if (!m.is_object()) continue;
        overhead += kPerMessageOverhead;
        for (const auto& member : m.get_object()) {
          const std::string_view field = member.key();
          if (field == "content") {
            addContent(member.value(), out.scripts);
          } else if (field == "name" && member.value().is_string()) {
            overhead += 1;
            out.scripts.add(member.value().get_string());
          } else if (field == "tool_calls") {
            out.scripts.add(boost::json::serialize(member.value()));
          }
        }
      }
    } else if (key == "tools") {
      out.scripts.add(boost::json::serialize(value));
    } else if (key == "response_format" && value.is_object()) {
      if (const auto* schema = value.get_object().if_contains("json_schema")) {
        out.scripts.add(boost::json::serialize(*schema));
      }
    }
  }
  out.tokens = tokensOf(out.scripts) + overhead;
  return out;
}

PromptEstimate estimatePrompt(const api::ChatRequest& request) {
  const api::PromptText& prompt = request.prompt;
  if (prompt.needs_dom) return estimatePrompt(request.body());
  PromptEstimate out;
  for (std::string_view text : prompt.texts) out.scripts.add(text);
  out.scripts.add(prompt.escaped);
  // Whole numbers: the sum is exact in any order.
  const double overhead = kReplyPrimer + kPerMessageOverhead * prompt.messages + prompt.names;
  out.tokens = tokensOf(out.scripts) + overhead;
  return out;
}

// One model's calibration. The key is a 64-bit hash of the model name (never
// 0); a collision between two configured names is not a practical concern.
// Ratios are stored as doubles in atomics: readers never block, writers CAS.
struct TokenEstimator::Slot {
  std::atomic<std::uint64_t> key{0};
  std::atomic<double> ratio{1.0};
  std::array<std::atomic<double>, kScriptCount> script_ratio{};  // 0: not observed
  std::atomic<double> last_accuracy{0};                          // 0: not observed
  std::array<std::atomic<std::uint64_t>, kScriptCount> cost_chars{};
  std::array<std::atomic<std::uint64_t>, kScriptCount> cost_nano_usd{};
};

namespace {

std::uint64_t keyOf(std::string_view model) {
  const std::uint64_t h = std::hash<std::string_view>{}(model);
  return h == 0 ? 1 : h;
}

double clampRatio(double r) { return std::clamp(r, kMinRatio, kMaxRatio); }

void blend(std::atomic<double>& value, double sample, double alpha, bool unset_is_zero) {
  double current = value.load(std::memory_order_relaxed);
  double next;
  do {
    next =
        (unset_is_zero && current == 0) ? sample : clampRatio(current + alpha * (sample - current));
  } while (!value.compare_exchange_weak(current, next, std::memory_order_relaxed));
}

}  // namespace

TokenEstimator::TokenEstimator(double alpha)
    : alpha_(std::clamp(alpha, 0.001, 1.0)), slots_(std::make_unique<Slot[]>(kMaxModels)) {}

TokenEstimator::~TokenEstimator() = default;

const TokenEstimator::Slot* TokenEstimator::find(std::string_view model) const {
  const std::uint64_t key = keyOf(model);
  for (std::size_t i = 0; i < kMaxModels; ++i) {
    const Slot& slot = slots_[(key + i) % kMaxModels];
    const std::uint64_t k = slot.key.load(std::memory_order_acquire);
    if (k == key) return &slot;
    if (k == 0) return nullptr;
  }
  return nullptr;
}

TokenEstimator::Slot* TokenEstimator::findOrClaim(std::string_view model) {
  const std::uint64_t key = keyOf(model);
  for (std::size_t i = 0; i < kMaxModels; ++i) {
    Slot& slot = slots_[(key + i) % kMaxModels];
    std::uint64_t k = slot.key.load(std::memory_order_acquire);
    if (k == 0 && slot.key.compare_exchange_strong(k, key, std::memory_order_acq_rel)) return &slot;
    if (k == key) return &slot;
  }
  return nullptr;
}

std::uint64_t TokenEstimator::estimate(std::string_view model,
                                       const boost::json::object& chat_body) const {
  const PromptEstimate e = estimatePrompt(chat_body);
  return static_cast<std::uint64_t>(std::ceil(e.tokens * ratio(model, e.scripts.dominant())));
}

void TokenEstimator::observe(std::string_view model, double estimated, std::uint64_t actual,
                             std::optional<Script> dominant) {
  // Tiny prompts are all template overhead and say little about the tokenizer.
  if (!(estimated >= 8) || actual < 8) return;
  Slot* slot = findOrClaim(model);
  if (slot == nullptr) return;
  const double calibrated = estimated * ratio(model, dominant);
  slot->last_accuracy.store(calibrated / static_cast<double>(actual), std::memory_order_relaxed);
  const double sample = clampRatio(static_cast<double>(actual) / estimated);
  blend(slot->ratio, sample, alpha_, false);
  if (dominant) {
    blend(slot->script_ratio[static_cast<std::size_t>(*dominant)], sample, alpha_, true);
  }
}

double TokenEstimator::ratio(std::string_view model, std::optional<Script> script) const {
  const Slot* slot = find(model);
  if (slot == nullptr) return 1.0;
  if (script) {
    const double r =
        slot->script_ratio[static_cast<std::size_t>(*script)].load(std::memory_order_relaxed);
    if (r != 0) return r;
  }
  return slot->ratio.load(std::memory_order_relaxed);
}

double TokenEstimator::usdPer1kChars(const config::ModelConfig& model, Script script) const {
  const double tokens_per_1k_chars = 1000 * tokensPerChar(script) * ratio(model.name, script);
  return tokens_per_1k_chars * model.price_per_mtok.input / 1e6;
}

std::optional<double> TokenEstimator::lastAccuracy(std::string_view model) const {
  const Slot* slot = find(model);
  if (slot == nullptr) return std::nullopt;
  const double v = slot->last_accuracy.load(std::memory_order_relaxed);
  if (v == 0) return std::nullopt;
  return v;
}

void TokenEstimator::observeCost(std::string_view model, Script script, std::uint64_t chars,
                                 double input_usd) {
  if (chars == 0 || !(input_usd >= 0)) return;
  Slot* slot = findOrClaim(model);
  if (slot == nullptr) return;
  const auto i = static_cast<std::size_t>(script);
  // Cost first: a reader may see the cost without its characters, never
  // characters without their cost (a brief overestimate rather than a 0).
  slot->cost_nano_usd[i].fetch_add(static_cast<std::uint64_t>(std::llround(input_usd * 1e9)),
                                   std::memory_order_relaxed);
  slot->cost_chars[i].fetch_add(chars, std::memory_order_relaxed);
}

std::optional<double> TokenEstimator::observedUsdPer1kChars(std::string_view model,
                                                            Script script) const {
  const Slot* slot = find(model);
  if (slot == nullptr) return std::nullopt;
  const auto i = static_cast<std::size_t>(script);
  const std::uint64_t chars = slot->cost_chars[i].load(std::memory_order_relaxed);
  if (chars == 0) return std::nullopt;
  const double usd = slot->cost_nano_usd[i].load(std::memory_order_relaxed) / 1e9;
  return usd * 1000.0 / static_cast<double>(chars);
}

}  // namespace llmgate::proxy::routing

// The config loader: YAML -> validated Config (effectiveConfigJson is in
// effective_config.cc). yaml-cpp throws; every call into it happens inside
// loadConfigString's try block, so nothing escapes.
//
// Validation never stops at the first problem: each reader reports what is
// wrong with its own key (path first) and returns nullopt, the caller keeps the
// default, and loading goes on so that one run lists every problem.
#include "common/config/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/config/units.h"
#include "common/net/address_policy.h"
#include "re2/re2.h"

namespace llmgate::config {
namespace {

// A runaway config (or an alias referenced thousands of times) must not keep
// the loader busy or flood the log.
constexpr std::size_t kMaxProblems = 100;
constexpr std::size_t kMaxNodes = 200'000;
constexpr std::size_t kMaxConfigBytes = 16u << 20;
constexpr std::size_t kMaxNameLength = 128;

constexpr std::array<std::string_view, 5> kProviderKinds = {"openai", "deepseek", "dashscope",
                                                            "mistral", "anthropic"};
constexpr std::array<ProviderKind, 5> kProviderKindValues = {
    ProviderKind::kOpenAI, ProviderKind::kDeepSeek, ProviderKind::kDashScope,
    ProviderKind::kMistral, ProviderKind::kAnthropic};
// The task classes of the x-llmgate-task header and the classifier (DESIGN.md).
constexpr std::array<std::string_view, 6> kTaskClasses = {"code",      "structured", "summarize",
                                                          "reasoning", "creative",   "chat"};
constexpr std::array<std::string_view, 2> kWhenAllEjected = {"fail_fast", "least_recently_ejected"};
constexpr std::array<std::string_view, 3> kTruncationActions = {"pass", "reprocess", "error"};
constexpr std::array<std::string_view, 3> kCacheModes = {"deterministic", "always", "off"};
constexpr std::array<std::string_view, 4> kLogLevels = {"debug", "info", "warn", "error"};

constexpr std::string_view kEmbeddedDefault =
    R"yaml(# llmgate's built-in configuration, used when it starts without --config.
# Everything stays on this machine: the providers are the demo fake provider
# (fakellm) on 127.0.0.1:18999, no API keys are needed, no network is used.
server:
  listen: "127.0.0.1:8080"
  admin_listen: "127.0.0.1:9901"

providers:
  - name: fake
    kind: openai
    base_url: "http://127.0.0.1:18999/v1"
    allow_private_network: true
  - name: fake-deepseek
    kind: deepseek
    base_url: "http://127.0.0.1:18999/deepseek"
    allow_private_network: true

models:
  - name: gpt-4o-mini
    provider: fake
    upstream_model: gpt-4o-mini
    context_window: 128000
    max_output_tokens: 16384
    price_per_mtok: {input: 0.15, cached_input: 0.075, output: 0.60}
    strengths: [chat, summarize]
  - name: deepseek-chat
    provider: fake-deepseek
    upstream_model: deepseek-chat
    context_window: 65536
    max_output_tokens: 8192
    price_per_mtok: {input: 0.14, output: 0.42}
    strengths: [code, structured]
    fallbacks: [gpt-4o-mini]

routes:
  - name: auto
    default: [gpt-4o-mini]
)yaml";

// ---------------------------------------------------------------------------
// Small text helpers.

// Debian's Abseil is built with its own absl::string_view, which does not
// convert from std::string_view: these bridge the two.
absl::string_view av(std::string_view text) { return absl::string_view(text.data(), text.size()); }
template <typename T>
const T& alphaNum(const T& value) {
  return value;
}
absl::string_view alphaNum(std::string_view value) { return av(value); }
template <typename... Parts>
std::string cat(const Parts&... parts) {
  return absl::StrCat(alphaNum(parts)...);
}

template <typename Range>
std::string join(const Range& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  while (true) {
    const std::size_t at = text.find(separator);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

std::string lower(std::string_view text) { return absl::AsciiStrToLower(av(text)); }

// A value echoed in an error: quoted, escaped, and cut short.
std::string quote(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMaxShown) out += "...";
  out += '"';
  return out;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

template <typename Range>
std::string joinOptions(const Range& options) {
  return join(options, ", ");
}

// Edit distance counting a swap of two neighbours as one edit ("inptu").
std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// " (did you mean "x"?)" when one candidate is close to `word`, else "".
template <typename Range>
std::string suggestion(std::string_view word, const Range& candidates) {
  std::string_view best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& candidate : candidates) {
    const std::size_t distance = editDistance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  const std::size_t allowed = std::max<std::size_t>(1, std::min<std::size_t>(3, word.size() / 3));
  if (best.empty() || best_distance == 0 || best_distance > allowed) return "";
  return cat(" (did you mean ", quote(best), "?)");
}

bool isEnvName(std::string_view name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Someone may paste the key itself where the variable's name belongs; an
// error message then must not repeat it. Conventional names (FOO_API_KEY) are
// shown, anything else is not.
std::string envNameForMessage(std::string_view name) {
  const bool conventional = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isupper(static_cast<unsigned char>(c)) ||
           absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
  return conventional ? cat("environment variable ", name)
                      : std::string("the environment variable named here");
}

bool isNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
         c == ':' || c == '/' || c == '@' || c == '+';
}

bool isHostname(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > 253) return false;
  for (std::string_view label : split(host, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    }
  }
  return true;
}

// Names that resolve to the local host without DNS (RFC 6761, Debian's /etc/hosts).
bool isLocalhostName(std::string_view host) {
  std::string name = lower(host);
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name == "localhost" || name.ends_with(".localhost") || name == "localhost.localdomain" ||
         name == "ip6-localhost" || name == "ip6-loopback";
}

// A host whose last label is a number is an IPv4 address to resolvers and
// browsers (WHATWG URL); if it is not a valid one, refuse rather than guess.
bool looksNumeric(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const std::size_t dot = host.rfind('.');
  std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
    last.remove_prefix(2);
    return std::all_of(last.begin(), last.end(),
                       [](char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); });
  }
  return std::all_of(last.begin(), last.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

// std::from_chars over all of `text` (no sign '+', no spaces, nothing after).
template <typename T>
bool parseWhole(std::string_view text, T& out) {
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && stop == end;
}

std::optional<std::uint16_t> parsePort(std::string_view text, bool allow_zero) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
  if (value == 0 && !allow_zero) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// "host:port" or "[v6]:port"; the host part comes back without brackets.
std::optional<std::pair<std::string, std::string>> splitHostPort(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    return std::make_pair(std::string(text.substr(1, close - 1)),
                          std::string(text.substr(close + 2)));
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
  return std::make_pair(std::string(text.substr(0, colon)), std::string(text.substr(colon + 1)));
}

std::string trimSecret(std::string_view value) {
  return std::string(absl::StripAsciiWhitespace(av(value)));
}

// ---------------------------------------------------------------------------
// The loader.

struct Field {
  YAML::Node node;
  std::string path;
};

bool present(const std::optional<Field>& field) {
  return field.has_value() && !field->node.IsNull();
}

bool nonEmptyList(const std::optional<Field>& field) {
  return field.has_value() && field->node.IsSequence() && field->node.size() > 0;
}

struct ModelReference {
  std::string path;
  std::string name;
  std::string required_provider;  // empty: any provider
  std::string referrer;           // a model may not fall back to itself
};

class Loader;

// One YAML map: checks its shape and reports unknown, duplicate and refused
// keys once, at construction. A null node reads as an empty map.
class MapReader {
 public:
  MapReader(Loader& loader, const Field& field, std::span<const std::string_view> known,
            std::span<const std::pair<std::string_view, std::string_view>> refused = {},
            bool allow_extensions = false);

  bool isMap() const { return is_map_; }
  // The value under `key` (possibly null), or nullopt when the key is absent.
  std::optional<Field> get(std::string_view key) const;
  std::string path(std::string_view key) const {
    return path_.empty() ? std::string(key) : cat(path_, ".", key);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool is_map_ = false;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
};

class Loader {
 public:
  Loader(const EnvLookup& env, std::string_view base_dir) : env_(env), base_dir_(base_dir) {}

  Config load(const YAML::Node& root);
  // Only `models:` and `routes:`. Without `providers` (the control plane's
  // routes_file) a model's provider is not checked; with them (a proxy
  // checking a control-plane snapshot) it must name one of them.
  Config loadModelsAndRoutes(const YAML::Node& root,
                             const std::vector<ProviderConfig>* providers = nullptr);

  // Reports `name` at `path` when an earlier entry of `seen` has it already.
  // `paths` is parallel to `seen` (where each was defined).
  template <typename Named>
  void rejectDuplicateName(std::string_view path, std::string_view what, const std::string& name,
                           const std::vector<Named>& seen, const std::vector<std::string>& paths) {
    for (std::size_t i = 0; i < seen.size(); ++i) {
      if (seen[i].name == name) {
        problem(path, cat("duplicate ", what, " name ", quote(name), " (also ", paths[i], ")"));
      }
    }
  }

  void problem(std::string_view path, std::string_view message) {
    if (problems_.size() >= kMaxProblems) {
      ++dropped_problems_;
      return;
    }
    problems_.push_back(cat(path, ": ", message));
  }

  std::vector<std::string> takeProblems() {
    std::vector<std::string> out = std::move(problems_);
    if (dropped_problems_ > 0) {
      out.push_back(cat("(", dropped_problems_, " more problems not shown)"));
    }
    return out;
  }

  // False once the config has more nodes than any sane one.
  bool countNode() {
    if (++nodes_ <= kMaxNodes) return true;
    if (nodes_ == kMaxNodes + 1) {
      problem("config",
              cat("more than ", kMaxNodes, " values (an alias expanded too many times?)"));
    }
    return false;
  }

 private:
  // Scalar readers: each reports its own problem and returns nullopt.
  std::optional<std::string> text(const Field& f, std::string_view expected = "a string");
  std::optional<std::string> nonEmptyText(const Field& f);
  std::optional<std::string> name(const Field& f);
  std::optional<std::int64_t> integer(const Field& f, std::int64_t min, std::int64_t max);
  std::optional<double> number(const Field& f, double min, double max);
  std::optional<bool> boolean(const Field& f);
  std::optional<Duration> duration(const Field& f, bool allow_zero);
  std::optional<std::uint64_t> size(const Field& f, std::uint64_t min, std::uint64_t max);
  template <std::size_t N>
  std::optional<std::string> oneOf(const Field& f, const std::array<std::string_view, N>& options);
  std::optional<std::string> envName(const Field& f);
  std::optional<Secret> secret(const Field& f);
  std::optional<std::string> filePath(const Field& f);
  std::optional<std::string> listenAddress(const Field& f);
  std::optional<std::string> grpcTarget(const Field& f);
  std::optional<std::string> redisUrl(const Field& f);
  std::optional<UpstreamEndpoint> endpoint(const Field& f, ProviderKind kind,
                                           bool allow_private_network);
  std::vector<Field> list(const Field& f);
  std::vector<std::string> taskList(const Field& f);
  std::vector<std::string> modelList(const Field& f, std::string_view referrer);

  // Sets `out` from `key` when the key is there and its value is valid.
  template <typename T, typename Read>
  void set(const MapReader& map, std::string_view key, T& out, Read read) {
    if (std::optional<Field> field = map.get(key)) {
      if (auto value = read(*field)) out = static_cast<T>(*value);
    }
  }
  std::optional<Field> require(const MapReader& map, std::string_view key) {
    std::optional<Field> field = map.get(key);
    if (!field) problem(map.path(key), "missing required key");
    return field;
  }

  // Sections.
  void server(const Field& f, ServerConfig& out);
  void clients(const Field& f, std::vector<ClientConfig>& out);
  // Override the fields of `out` present under `f` (global, then per provider).
  void timeouts(const Field& f, Timeouts& out);
  void retry(const Field& f, RetryPolicy& out);
  void providers(const Field& f, Config& config);
  void models(const Field& f, Config& config);
  void routes(const Field& f, Config& config);
  void routeMatch(const Field& f, RouteMatch& out);
  void routeSplit(const Field& f, RouteRule& rule);
  void failover(const Field& f, FailoverConfig& out);
  void truncation(const Field& f, TruncationConfig& out);
  void cache(const Field& f, CacheConfig& out);
  void controlPlane(const Field& f, std::optional<ControlPlaneConfig>& out);
  void logging(const Field& f, LoggingConfig& out);
  void checkReferences(const Config& config);

  const EnvLookup& env_;
  std::filesystem::path base_dir_;
  std::vector<std::string> problems_;
  std::size_t dropped_problems_ = 0;
  std::size_t nodes_ = 0;
  std::vector<ModelReference> model_refs_;
  bool check_providers_ = true;
};

MapReader::MapReader(Loader& loader, const Field& field, std::span<const std::string_view> known,
                     std::span<const std::pair<std::string_view, std::string_view>> refused,
                     bool allow_extensions)
    : path_(field.path) {
  const YAML::Node& node = field.node;
  if (node.IsNull()) {
    is_map_ = true;
    return;
  }
  if (!node.IsMap()) {
    loader.problem(path_.empty() ? "config" : path_, cat("expected a map, got ", describe(node)));
    return;
  }
  is_map_ = true;
  for (const auto& entry : node) {
    if (!loader.countNode()) break;
    if (!entry.first.IsScalar()) {
      loader.problem(path_.empty() ? "config" : path_, "map keys must be plain strings");
      continue;
    }
    const std::string& key = entry.first.Scalar();
    const bool duplicate = std::any_of(entries_.begin(), entries_.end(),
                                       [&](const auto& seen) { return seen.first == key; });
    if (duplicate) {
      loader.problem(path(key), "duplicate key");
      continue;
    }
    // "x-..." keys hold YAML anchors for reuse (as in docker-compose files).
    if (allow_extensions && key.starts_with("x-")) continue;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      const auto refusal = std::find_if(refused.begin(), refused.end(),
                                        [&](const auto& item) { return item.first == key; });
      if (refusal != refused.end()) {
        loader.problem(path(key), refusal->second);
      } else {
        loader.problem(path(key), cat("unknown key", suggestion(key, known)));
      }
      continue;
    }
    entries_.emplace_back(key, entry.second);
  }
}

std::optional<Field> MapReader::get(std::string_view key) const {
  for (const auto& [entry_key, value] : entries_) {
    if (entry_key == key) return Field{value, path(key)};
  }
  return std::nullopt;
}

// --- scalar readers --------------------------------------------------------

std::optional<std::string> Loader::text(const Field& f, std::string_view expected) {
  if (!f.node.IsScalar()) {
    problem(f.path, cat("expected ", expected, ", got ", describe(f.node)));
    return std::nullopt;
  }
  return f.node.Scalar();
}

std::optional<std::string> Loader::nonEmptyText(const Field& f) {
  std::optional<std::string> value = text(f);
  if (value && value->empty()) {
    problem(f.path, "must not be empty");
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> Loader::name(const Field& f) {
  std::optional<std::string> value = text(f);
  if (!value) return std::nullopt;
  if (value->empty() || value->size() > kMaxNameLength ||
      !std::all_of(value->begin(), value->end(), isNameChar)) {
    problem(f.path, cat("expected a name of 1 to ", kMaxNameLength,
                        " letters, digits or . _ - : / @ +, got ", quote(*value)));
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> Loader::integer(const Field& f, std::int64_t min, std::int64_t max) {
  std::optional<std::string> value = text(f, "an integer");
  if (!value) return std::nullopt;
  std::int64_t parsed = 0;
  if (!parseWhole(*value, parsed)) {
    problem(f.path, cat("expected an integer, got ", quote(*value)));
    return std::nullopt;
  }
  if (parsed < min || parsed > max) {
    problem(f.path, max == std::numeric_limits<std::int64_t>::max()
                        ? cat("must be at least ", min, ", got ", parsed)
                        : cat("must be between ", min, " and ", max, ", got ", parsed));
    return std::nullopt;
  }
  return parsed;
}

std::optional<double> Loader::number(const Field& f, double min, double max) {
  std::optional<std::string> value = text(f, "a number");
  if (!value) return std::nullopt;
  double parsed = 0;
  if (!parseWhole(*value, parsed) || !std::isfinite(parsed)) {
    problem(f.path, cat("expected a number, got ", quote(*value)));
    return std::nullopt;
  }
  if (parsed < min || parsed > max) {
    problem(f.path, max == std::numeric_limits<double>::max()
                        ? cat("must be at least ", min, ", got ", *value)
                        : cat("must be between ", min, " and ", max, ", got ", *value));
    return std::nullopt;
  }
  return parsed;
}

std::optional<bool> Loader::boolean(const Field& f) {
  std::optional<std::string> value = text(f, "true or false");
  if (!value) return std::nullopt;
  if (*value == "true" || *value == "True" || *value == "TRUE") return true;
  if (*value == "false" || *value == "False" || *value == "FALSE") return false;
  problem(f.path, cat("expected true or false, got ", quote(*value)));
  return std::nullopt;
}

std::optional<Duration> Loader::duration(const Field& f, bool allow_zero) {
  std::optional<std::string> value = text(f, "a duration (e.g. 250ms, 3s, 5m, 1h)");
  if (!value) return std::nullopt;
  absl::StatusOr<Duration> parsed = parseDuration(*value);
  if (!parsed.ok()) {
    problem(f.path, cat("invalid duration ", parsed.status().message()));
    return std::nullopt;
  }
  if (!allow_zero && *parsed == Duration::zero()) {
    problem(f.path, "must be greater than 0");
    return std::nullopt;
  }
  return *parsed;
}

std::optional<std::uint64_t> Loader::size(const Field& f, std::uint64_t min, std::uint64_t max) {
  std::optional<std::string> value = text(f, "a size (e.g. 512, 64KiB, 4MiB)");
  if (!value) return std::nullopt;
  absl::StatusOr<std::uint64_t> parsed = parseSize(*value);
  if (!parsed.ok()) {
    problem(f.path, cat("invalid size ", parsed.status().message()));
    return std::nullopt;
  }
  if (*parsed < min || *parsed > max) {
    problem(f.path, cat("must be between ", min, " and ", max, " bytes, got ", quote(*value)));
    return std::nullopt;
  }
  return *parsed;
}

template <std::size_t N>
std::optional<std::string> Loader::oneOf(const Field& f,
                                         const std::array<std::string_view, N>& options) {
  std::optional<std::string> value = text(f, cat("one of ", joinOptions(options)));
  if (!value) return std::nullopt;
  if (std::find(options.begin(), options.end(), *value) == options.end()) {
    problem(f.path, cat("expected one of ", joinOptions(options), ", got ", quote(*value)));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> Loader::envName(const Field& f) {
  std::optional<std::string> value = text(f, "the name of an environment variable");
  if (!value) return std::nullopt;
  if (!isEnvName(*value)) {
    // Not echoed: this is where a pasted key would land.
    problem(f.path,
            "expected the name of an environment variable (letters, digits and _, not starting "
            "with a digit), not the secret itself");
    return std::nullopt;
  }
  return value;
}

std::optional<Secret> Loader::secret(const Field& f) {
  std::optional<std::string> env_name = envName(f);
  if (!env_name) return std::nullopt;
  const std::optional<std::string> raw = env_ ? env_(*env_name) : std::nullopt;
  if (!raw) {
    problem(f.path, cat(envNameForMessage(*env_name), " is not set"));
    return std::nullopt;
  }
  // Secrets mounted from files often end with a newline.
  std::string value = trimSecret(*raw);
  if (value.empty()) {
    problem(f.path, cat(envNameForMessage(*env_name), " is empty"));
    return std::nullopt;
  }
  const bool header_safe = std::all_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f;
  });
  if (!header_safe) {
    problem(f.path, cat(envNameForMessage(*env_name),
                        " holds spaces or control characters, which cannot be sent in "
                        "an HTTP header"));
    return std::nullopt;
  }
  return Secret{*env_name, std::move(value)};
}

std::optional<std::string> Loader::filePath(const Field& f) {
  std::optional<std::string> value = nonEmptyText(f);
  if (!value) return std::nullopt;
  const std::filesystem::path path(*value);
  if (path.is_absolute()) return value;
  return (base_dir_ / path).lexically_normal().string();
}

std::optional<std::string> Loader::listenAddress(const Field& f) {
  std::optional<std::string> value = text(f);
  if (!value) return std::nullopt;
  const auto parts = splitHostPort(*value);
  boost::system::error_code ec;
  if (parts) boost::asio::ip::make_address(parts->first, ec);
  if (!parts || ec || !parsePort(parts->second, /*allow_zero=*/true)) {
    problem(f.path, cat("expected an IP address and port (e.g. 0.0.0.0:8080, "
                        "127.0.0.1:9901 or [::]:8080), got ",
                        quote(*value)));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> Loader::grpcTarget(const Field& f) {
  std::optional<std::string> value = nonEmptyText(f);
  if (!value) return std::nullopt;
  // gRPC's own target syntax passes through as is.
  for (std::string_view scheme : {"dns:", "unix:", "ipv4:", "ipv6:"}) {
    if (value->starts_with(scheme) && value->size() > scheme.size()) return value;
  }
  const auto parts = splitHostPort(*value);
  const bool host_ok =
      parts && (isHostname(parts->first) || net::parseIpLiteralLoose(parts->first).has_value());
  if (!host_ok || !parsePort(parts->second, /*allow_zero=*/false)) {
    problem(f.path, cat("expected host:port (e.g. llmgate-control:50051), got ", quote(*value)));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> Loader::redisUrl(const Field& f) {
  std::optional<std::string> value = nonEmptyText(f);
  if (!value) return std::nullopt;
  const auto parsed = boost::urls::parse_uri(*value);
  if (!parsed) {
    problem(f.path, cat("expected a redis://host:port/db URL, got ", quote(*value)));
    return std::nullopt;
  }
  const boost::urls::url_view& url = *parsed;
  const std::string scheme = lower(url.scheme());
  bool ok = true;
  auto fail = [&](std::string_view message) {
    problem(f.path, message);
    ok = false;
  };
  if (scheme != "redis" && scheme != "rediss") {
    fail(cat("scheme must be redis or rediss, got ", quote(scheme)));
  }
  if (url.has_password()) {
    fail(
        "must not hold a password; put it in an environment variable named by "
        "cache.redis.password_env");
  }
  if (url.has_query() || url.has_fragment()) fail("must not have a query or fragment");
  if (url.host_type() == boost::urls::host_type::none || url.encoded_host().empty()) {
    fail("has no host");
  }
  if (url.has_port() && !parsePort(std::string_view(url.port()), /*allow_zero=*/false)) {
    fail(cat("invalid port ", quote(std::string_view(url.port()))));
  }
  std::string_view path = url.encoded_path();
  if (!path.empty() && path != "/") {
    path.remove_prefix(1);
    if (!std::all_of(path.begin(), path.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); })) {
      fail(cat("the path must be a database number (e.g. /0), got ", quote(url.encoded_path())));
    }
  }
  return ok ? value : std::nullopt;
}

std::optional<UpstreamEndpoint> Loader::endpoint(const Field& f, ProviderKind kind,
                                                 bool allow_private_network) {
  std::optional<std::string> value = nonEmptyText(f);
  if (!value) return std::nullopt;
  const auto parsed = boost::urls::parse_uri(*value);
  if (!parsed) {
    // A URL with '@' may carry a credential: not echoed.
    problem(f.path, cat("expected an absolute http:// or https:// URL",
                        value->find('@') == std::string::npos ? cat(", got ", quote(*value))
                                                              : std::string()));
    return std::nullopt;
  }
  const boost::urls::url_view& url = *parsed;
  // Boost.URL 1.81 reads "http://1.2.3.4.5/" as host 1.2.3.4 and path ".5/":
  // after an authority, anything but '/' means the host was malformed.
  if (!url.encoded_path().empty() && url.encoded_path().front() != '/') {
    problem(f.path, cat("invalid host or port in ", quote(*value)));
    return std::nullopt;
  }
  bool ok = true;
  auto fail = [&](std::string_view message) {
    problem(f.path, message);
    ok = false;
  };
  UpstreamEndpoint out;
  const std::string scheme = lower(url.scheme());
  if (scheme == "https") {
    out.tls = true;
    out.port = 443;
  } else if (scheme == "http") {
    out.tls = false;
    out.port = 80;
  } else {
    fail(cat("scheme must be http or https, got ", quote(scheme)));
  }
  if (url.has_userinfo()) {
    // Not echoed: the userinfo may be a credential.
    fail(
        "must not contain user:password@; put the API key in an environment variable named by "
        "api_key_env");
  }
  if (url.has_query()) fail("must not contain a query (?...)");
  if (url.has_fragment()) fail("must not contain a fragment (#...)");

  // The host, and whether it may be a non-public address.
  std::optional<boost::asio::ip::address> address;
  bool local_name = false;
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      out.host = std::string(url.host_address());
      address = net::parseIpLiteralLoose(out.host);
      if (!address) fail(cat("invalid IP address ", quote(out.host)));
      break;
    case boost::urls::host_type::name: {
      const std::string_view encoded = url.encoded_host();
      out.host = std::string(encoded);
      if (encoded.find('%') != std::string_view::npos) {
        fail("percent-encoding is not allowed in the host");
        break;
      }
      // An IPv4 address in another spelling: "2130706433", "0177.0.0.1", "0x7f.1".
      address = net::parseIpLiteralLoose(out.host);
      if (address) break;
      if (looksNumeric(out.host)) {
        fail(cat("host ", quote(out.host), " looks like an IP address but is not a valid one"));
      } else if (!isHostname(out.host)) {
        fail(cat("invalid host name ", quote(out.host)));
      } else {
        local_name = isLocalhostName(out.host);
      }
      break;
    }
    case boost::urls::host_type::ipvfuture:
      fail("IPvFuture hosts are not supported");
      break;
    case boost::urls::host_type::none:
      fail("has no host");
      break;
  }
  if (ok && !allow_private_network &&
      (local_name || (address && net::isNonPublicAddress(*address)))) {
    // A disguised spelling is shown with the address it means.
    const std::string shown = address && address->to_string() != out.host
                                  ? cat(quote(out.host), " (", address->to_string(), ")")
                                  : quote(out.host);
    fail(cat("host ", shown,
             " is a loopback, private, link-local or otherwise non-public address; "
             "set allow_private_network: true on this provider if that is intended"));
  }

  if (url.has_port()) {
    const std::optional<std::uint16_t> port =
        parsePort(std::string_view(url.port()), /*allow_zero=*/false);
    if (port) {
      out.port = *port;
    } else {
      fail(cat("invalid port ", quote(std::string_view(url.port()))));
    }
  }

  std::string_view path = url.encoded_path();
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.base_path = std::string(path);
  if (!path.empty()) {
    std::string_view segments = path.substr(1);
    for (std::string_view segment : split(segments, '/')) {
      if (segment.empty() || segment == "." || segment == "..") {
        fail(cat("the path ", quote(path), " has an empty, . or .. segment"));
        break;
      }
    }
  }
  if (kind == ProviderKind::kAnthropic) {
    if (path.ends_with("/v1") || path.ends_with("/messages")) {
      fail(
          "for kind anthropic, base_url stops before /v1/messages (llmgate appends it), e.g. "
          "https://api.anthropic.com");
    }
  } else if (path.ends_with("/chat/completions")) {
    fail(
        "base_url stops before /chat/completions (llmgate appends it), e.g. "
        "https://api.openai.com/v1");
  }
  if (!ok) return std::nullopt;
  return out;
}

std::vector<Field> Loader::list(const Field& f) {
  std::vector<Field> items;
  if (f.node.IsNull()) return items;
  if (!f.node.IsSequence()) {
    problem(f.path, cat("expected a list, got ", describe(f.node)));
    return items;
  }
  std::size_t index = 0;
  for (const auto& item : f.node) {
    if (!countNode()) break;
    items.push_back(Field{item, cat(f.path, "[", index++, "]")});
  }
  return items;
}

std::vector<std::string> Loader::taskList(const Field& f) {
  std::vector<std::string> out;
  for (const Field& item : list(f)) {
    if (auto task = oneOf(item, kTaskClasses)) out.push_back(*task);
  }
  return out;
}

std::vector<std::string> Loader::modelList(const Field& f, std::string_view referrer) {
  std::vector<std::string> out;
  for (const Field& item : list(f)) {
    std::optional<std::string> model = name(item);
    if (!model) continue;
    if (std::find(out.begin(), out.end(), *model) != out.end()) {
      problem(item.path, cat("model ", quote(*model), " is listed twice"));
      continue;
    }
    model_refs_.push_back(ModelReference{item.path, *model, "", std::string(referrer)});
    out.push_back(*model);
  }
  return out;
}

// --- sections --------------------------------------------------------------

void Loader::server(const Field& f, ServerConfig& out) {
  static constexpr std::array<std::string_view, 11> kKeys = {"listen",
                                                             "admin_listen",
                                                             "workers",
                                                             "max_request_bytes",
                                                             "max_header_bytes",
                                                             "max_connections",
                                                             "drain_timeout",
                                                             "request_header_timeout",
                                                             "request_body_timeout",
                                                             "idle_timeout",
                                                             "config_watch_interval"};
  MapReader m(*this, f, kKeys);
  set(m, "listen", out.listen, [&](const Field& v) { return listenAddress(v); });
  set(m, "admin_listen", out.admin_listen, [&](const Field& v) { return listenAddress(v); });
  set(m, "workers", out.workers, [&](const Field& v) { return integer(v, 0, 256); });
  set(m, "max_request_bytes", out.max_request_bytes,
      [&](const Field& v) { return size(v, 1, std::numeric_limits<std::uint64_t>::max()); });
  set(m, "max_header_bytes", out.max_header_bytes,
      [&](const Field& v) { return size(v, 1024, std::numeric_limits<std::uint32_t>::max()); });
  set(m, "max_connections", out.max_connections,
      [&](const Field& v) { return integer(v, 1, std::numeric_limits<std::uint32_t>::max()); });
  set(m, "drain_timeout", out.drain_timeout, [&](const Field& v) { return duration(v, true); });
  set(m, "request_header_timeout", out.request_header_timeout,
      [&](const Field& v) { return duration(v, false); });
  set(m, "request_body_timeout", out.request_body_timeout,
      [&](const Field& v) { return duration(v, false); });
  set(m, "idle_timeout", out.idle_timeout, [&](const Field& v) { return duration(v, false); });
  set(m, "config_watch_interval", out.config_watch_interval,
      [&](const Field& v) { return duration(v, true); });
  if (out.listen == out.admin_listen && !out.listen.ends_with(":0")) {
    problem(m.path("admin_listen"), "must differ from server.listen");
  }
}

void Loader::clients(const Field& f, std::vector<ClientConfig>& out) {
  static constexpr std::array<std::string_view, 3> kKeys = {"key_env", "tenant", "budget"};
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 1> kRefused = {{
      {"key",
       "client keys must not be written in the config file; put the key in an environment "
       "variable and name it with key_env"},
  }};
  static constexpr std::array<std::string_view, 3> kBudgetKeys = {"usd_per_day", "usd_per_minute",
                                                                  "low_at_percent"};
  std::vector<std::string> key_paths;  // parallel to `out`, for duplicate-key messages
  for (const Field& item : list(f)) {
    MapReader m(*this, item, kKeys, kRefused);
    if (!m.isMap()) continue;
    ClientConfig client;
    bool has_key = false;
    if (std::optional<Field> key = require(m, "key_env")) {
      if (std::optional<Secret> secret_value = secret(*key)) {
        client.key = std::move(*secret_value);
        has_key = true;
      }
    }
    if (std::optional<Field> tenant = require(m, "tenant")) {
      if (auto value = name(*tenant)) client.tenant = *value;
    }
    if (std::optional<Field> budget = m.get("budget"); present(budget)) {
      MapReader b(*this, *budget, kBudgetKeys);
      if (std::optional<Field> usd = b.get("usd_per_day")) {
        client.budget.usd_per_day = number(*usd, 0, std::numeric_limits<double>::max());
      }
      if (std::optional<Field> usd = b.get("usd_per_minute")) {
        client.budget.usd_per_minute = number(*usd, 0, std::numeric_limits<double>::max());
      }
      set(b, "low_at_percent", client.budget.low_at_percent,
          [&](const Field& v) { return number(v, 1, 100); });
    }
    if (has_key) {
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (!out[i].key.empty() && out[i].key.value == client.key.value) {
          problem(m.path("key_env"),
                  cat("holds the same key as ", key_paths[i], "; every client needs its own key"));
        }
      }
    }
    key_paths.push_back(m.path("key_env"));
    out.push_back(std::move(client));
  }
}

void Loader::timeouts(const Field& f, Timeouts& out) {
  static constexpr std::array<std::string_view, 4> kKeys = {"connect", "first_byte", "stream_idle",
                                                            "total"};
  MapReader m(*this, f, kKeys);
  auto positive = [&](const Field& v) { return duration(v, false); };
  set(m, "connect", out.connect, positive);
  set(m, "first_byte", out.first_byte, positive);
  set(m, "stream_idle", out.stream_idle, positive);
  set(m, "total", out.total, positive);
  if (out.connect > out.total) {
    problem(m.path(), cat("connect (", formatDuration(out.connect), ") must not exceed total (",
                          formatDuration(out.total), ")"));
  }
  if (out.first_byte > out.total) {
    problem(m.path(), cat("first_byte (", formatDuration(out.first_byte),
                          ") must not exceed total (", formatDuration(out.total), ")"));
  }
}

void Loader::retry(const Field& f, RetryPolicy& out) {
  static constexpr std::array<std::string_view, 4> kKeys = {"max_attempts", "base_delay",
                                                            "max_delay", "budget_percent"};
  MapReader m(*this, f, kKeys);
  set(m, "max_attempts", out.max_attempts, [&](const Field& v) { return integer(v, 1, 10); });
  set(m, "base_delay", out.base_delay, [&](const Field& v) { return duration(v, true); });
  set(m, "max_delay", out.max_delay, [&](const Field& v) { return duration(v, false); });
  set(m, "budget_percent", out.budget_percent, [&](const Field& v) { return number(v, 0, 100); });
  if (out.base_delay > out.max_delay) {
    problem(m.path(), cat("base_delay (", formatDuration(out.base_delay),
                          ") must not exceed max_delay (", formatDuration(out.max_delay), ")"));
  }
}

void Loader::providers(const Field& f, Config& config) {
  static constexpr std::array<std::string_view, 9> kKeys = {"name",
                                                            "kind",
                                                            "base_url",
                                                            "api_key_env",
                                                            "max_connections",
                                                            "allow_private_network",
                                                            "timeouts",
                                                            "retry",
                                                            "keepalive_ping"};
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kRefused = {{
      {"api_key",
       "API keys must not be written in the config file; put the key in an environment variable "
       "and name it with api_key_env"},
      {"key", "API keys must not be written in the config file; use api_key_env"},
  }};
  static constexpr std::array<std::string_view, 2> kPingKeys = {"interval", "model"};
  std::vector<std::string> name_paths;
  for (const Field& item : list(f)) {
    MapReader m(*this, item, kKeys, kRefused);
    if (!m.isMap()) continue;
    ProviderConfig provider;
    provider.timeouts = config.timeouts;
    provider.retry = config.retry;
    bool named = false;
    if (std::optional<Field> field = require(m, "name")) {
      if (std::optional<std::string> value = name(*field)) {
        provider.name = *value;
        named = true;
        rejectDuplicateName(field->path, "provider", provider.name, config.providers, name_paths);
      }
    }
    if (std::optional<Field> field = m.get("kind")) {
      if (std::optional<std::string> value = oneOf(*field, kProviderKinds)) {
        const auto at = std::find(kProviderKinds.begin(), kProviderKinds.end(), *value);
        provider.kind = kProviderKindValues[static_cast<std::size_t>(at - kProviderKinds.begin())];
      }
    }
    set(m, "allow_private_network", provider.allow_private_network,
        [&](const Field& v) { return boolean(v); });
    if (std::optional<Field> field = require(m, "base_url")) {
      if (std::optional<UpstreamEndpoint> parsed =
              endpoint(*field, provider.kind, provider.allow_private_network)) {
        provider.endpoint = std::move(*parsed);
        provider.base_url = field->node.Scalar();
      }
    }
    if (std::optional<Field> field = m.get("api_key_env")) {
      if (std::optional<Secret> key = secret(*field)) provider.api_key = std::move(*key);
    }
    set(m, "max_connections", provider.max_connections,
        [&](const Field& v) { return integer(v, 1, std::numeric_limits<std::uint32_t>::max()); });
    if (std::optional<Field> field = m.get("timeouts")) timeouts(*field, provider.timeouts);
    if (std::optional<Field> field = m.get("retry")) retry(*field, provider.retry);
    if (std::optional<Field> field = m.get("keepalive_ping"); present(field)) {
      MapReader ping_map(*this, *field, kPingKeys);
      KeepalivePing ping;
      set(ping_map, "interval", ping.interval, [&](const Field& v) { return duration(v, false); });
      if (std::optional<Field> model = require(ping_map, "model")) {
        if (std::optional<std::string> value = name(*model)) {
          ping.model = *value;
          if (named) model_refs_.push_back(ModelReference{model->path, *value, provider.name, ""});
        }
      }
      if (ping_map.isMap()) provider.keepalive_ping = std::move(ping);
    }
    // Keep even a provider with other problems: models that name it then
    // produce no second, misleading "unknown provider" error.
    if (named) {
      name_paths.push_back(m.path("name"));
      config.providers.push_back(std::move(provider));
    }
  }
  if (!nonEmptyList(f)) {
    problem("providers", "at least one provider is required");
  }
}

void Loader::models(const Field& f, Config& config) {
  static constexpr std::array<std::string_view, 9> kKeys = {
      "name",           "provider",  "upstream_model", "context_window", "max_output_tokens",
      "price_per_mtok", "strengths", "fallbacks",      "latency_hint"};
  static constexpr std::array<std::string_view, 3> kPriceKeys = {"input", "cached_input", "output"};
  constexpr double kAnyPrice = std::numeric_limits<double>::max();
  std::vector<std::string> name_paths;
  std::vector<std::string> provider_names;
  for (const ProviderConfig& provider : config.providers) provider_names.push_back(provider.name);
  for (const Field& item : list(f)) {
    MapReader m(*this, item, kKeys);
    if (!m.isMap()) continue;
    ModelConfig model;
    bool named = false;
    if (std::optional<Field> field = require(m, "name")) {
      if (std::optional<std::string> value = name(*field)) {
        model.name = *value;
        named = true;
        rejectDuplicateName(field->path, "model", model.name, config.models, name_paths);
      }
    }
    if (std::optional<Field> field = require(m, "provider")) {
      if (std::optional<std::string> value = name(*field)) {
        model.provider = *value;
        if (check_providers_ && config.findProvider(*value) == nullptr) {
          problem(field->path,
                  cat("unknown provider ", quote(*value), suggestion(*value, provider_names)));
        }
      }
    }
    model.upstream_model = model.name;
    if (std::optional<Field> field = m.get("upstream_model")) {
      std::optional<std::string> value = nonEmptyText(*field);
      if (value && !std::all_of(value->begin(), value->end(), [](char c) {
            return static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
          })) {
        problem(field->path,
                cat("must not contain spaces or control characters, got ", quote(*value)));
      } else if (value) {
        model.upstream_model = *value;
      }
    }
    set(m, "context_window", model.context_window,
        [&](const Field& v) { return integer(v, 1, std::numeric_limits<std::uint32_t>::max()); });
    if (std::optional<Field> field = m.get("max_output_tokens")) {
      if (std::optional<std::int64_t> value =
              integer(*field, 1, std::numeric_limits<std::uint32_t>::max())) {
        model.max_output_tokens = static_cast<std::uint32_t>(*value);
        if (model.max_output_tokens > model.context_window) {
          problem(field->path,
                  cat("must not exceed context_window (", model.context_window, "), got ", *value));
        }
      }
    } else {
      model.max_output_tokens = std::min(model.max_output_tokens, model.context_window);
    }
    if (std::optional<Field> field = m.get("price_per_mtok"); present(field)) {
      MapReader p(*this, *field, kPriceKeys);
      auto price = [&](const Field& v) { return number(v, 0, kAnyPrice); };
      if (std::optional<Field> input = require(p, "input")) {
        if (auto value = price(*input)) model.price_per_mtok.input = *value;
      }
      if (std::optional<Field> output = require(p, "output")) {
        if (auto value = price(*output)) model.price_per_mtok.output = *value;
      }
      model.price_per_mtok.cached_input = model.price_per_mtok.input;
      set(p, "cached_input", model.price_per_mtok.cached_input, price);
    }
    if (std::optional<Field> field = m.get("strengths")) model.strengths = taskList(*field);
    if (std::optional<Field> field = m.get("fallbacks")) {
      model.fallbacks = modelList(*field, model.name);
    }
    if (std::optional<Field> field = m.get("latency_hint")) {
      model.latency_hint = duration(*field, false);
    }
    if (named) {
      name_paths.push_back(m.path("name"));
      config.models.push_back(std::move(model));
    }
  }
  if (!nonEmptyList(f)) {
    problem("models", "at least one model is required");
  }
}

void Loader::routeMatch(const Field& f, RouteMatch& out) {
  static constexpr std::array<std::string_view, 8> kWhenKeys = {
      "task",   "min_prompt_tokens", "max_prompt_tokens", "tools",
      "tenant", "response_format",   "last_user_message", "budget"};
  static constexpr std::array<std::string_view, 3> kFormats = {"text", "json_object",
                                                               "json_schema"};
  static constexpr std::array<std::string_view, 1> kBudgetStates = {"low"};
  MapReader w(*this, f, kWhenKeys);
  if (!w.isMap()) return;
  bool any = false;
  if (std::optional<Field> task = w.get("task")) {
    any = true;
    out.task = taskList(*task);
    if (!nonEmptyList(task) && !task->node.IsScalar() && !task->node.IsMap()) {
      problem(task->path, "must list at least one task class");
    }
  }
  constexpr std::int64_t kMaxTokens = std::int64_t{1} << 40;
  if (std::optional<Field> v = w.get("min_prompt_tokens")) {
    any = true;
    if (auto n = integer(*v, 0, kMaxTokens)) out.min_prompt_tokens = static_cast<std::uint64_t>(*n);
  }
  if (std::optional<Field> v = w.get("max_prompt_tokens")) {
    any = true;
    if (auto n = integer(*v, 0, kMaxTokens)) out.max_prompt_tokens = static_cast<std::uint64_t>(*n);
  }
  if (out.min_prompt_tokens && out.max_prompt_tokens &&
      *out.min_prompt_tokens > *out.max_prompt_tokens) {
    problem(w.path("max_prompt_tokens"), "must not be less than min_prompt_tokens");
  }
  if (std::optional<Field> v = w.get("tools")) {
    any = true;
    out.tools = boolean(*v);
  }
  if (std::optional<Field> v = w.get("response_format")) {
    any = true;
    const std::string scalar = v->node.IsScalar() ? v->node.Scalar() : std::string();
    if (v->node.IsScalar() && (scalar == "true" || scalar == "false" || scalar == "True" ||
                               scalar == "False" || scalar == "TRUE" || scalar == "FALSE")) {
      out.response_format = boolean(*v);
    } else {
      for (const Field& item : list(*v)) {
        if (auto type = oneOf(item, kFormats)) out.response_format_types.push_back(*type);
      }
      if (!out.response_format_types.empty()) out.response_format = true;
    }
  }
  if (std::optional<Field> v = w.get("tenant")) {
    any = true;
    for (const Field& item : list(*v)) {
      if (auto tenant = name(item)) out.tenant.push_back(*tenant);
    }
    if (out.tenant.empty()) problem(v->path, "must list at least one tenant");
  }
  if (std::optional<Field> v = w.get("last_user_message")) {
    any = true;
    if (std::optional<std::string> pattern = nonEmptyText(*v)) {
      RE2::Options options;
      options.set_log_errors(false);
      options.set_max_mem(8 << 20);
      auto re = std::make_shared<const RE2>(*pattern, options);
      if (!re->ok()) {
        problem(v->path, cat("invalid regular expression (RE2 syntax): ", re->error()));
      } else {
        out.last_user_message = *pattern;
        out.last_user_message_re = std::move(re);
      }
    }
  }
  if (std::optional<Field> v = w.get("budget")) {
    any = true;
    if (oneOf(*v, kBudgetStates)) out.budget_low = true;
  }
  if (!any) problem(w.path(), "needs at least one condition");
}

void Loader::routeSplit(const Field& f, RouteRule& rule) {
  static constexpr std::array<std::string_view, 2> kArmKeys = {"weight", "targets"};
  std::uint64_t total = 0;
  for (const Field& arm_field : list(f)) {
    MapReader a(*this, arm_field, kArmKeys);
    if (!a.isMap()) continue;
    RouteSplit arm;
    if (std::optional<Field> weight = require(a, "weight")) {
      if (auto n = integer(*weight, 0, 1000000)) arm.weight = static_cast<std::uint32_t>(*n);
    }
    if (std::optional<Field> targets = require(a, "targets")) {
      arm.targets = modelList(*targets, "");
      if (!nonEmptyList(targets) && !targets->node.IsScalar() && !targets->node.IsMap()) {
        problem(targets->path, "must list at least one model");
      }
    }
    total += arm.weight;
    rule.split.push_back(std::move(arm));
  }
  if (rule.split.empty() && nonEmptyList(f)) return;
  if (rule.split.empty()) {
    problem(f.path, "must list at least one {weight, targets}");
  } else if (total == 0) {
    problem(f.path, "the weights must not all be 0");
  }
}

void Loader::routes(const Field& f, Config& config) {
  static constexpr std::array<std::string_view, 3> kKeys = {"name", "rules", "default"};
  static constexpr std::array<std::string_view, 3> kRuleKeys = {"when", "targets", "split"};
  std::vector<std::string> name_paths;
  for (const Field& item : list(f)) {
    MapReader m(*this, item, kKeys);
    if (!m.isMap()) continue;
    RouteConfig route;
    bool named = false;
    if (std::optional<Field> field = require(m, "name")) {
      if (std::optional<std::string> value = name(*field)) {
        route.name = *value;
        named = true;
        rejectDuplicateName(field->path, "route", route.name, config.routes, name_paths);
        if (config.findModel(route.name) != nullptr) {
          problem(field->path,
                  cat(quote(route.name), " is already a model name; a route alias must differ"));
        }
      }
    }
    if (std::optional<Field> rules = m.get("rules")) {
      for (const Field& rule_field : list(*rules)) {
        MapReader r(*this, rule_field, kRuleKeys);
        if (!r.isMap()) continue;
        RouteRule rule;
        if (std::optional<Field> when = require(r, "when")) routeMatch(*when, rule.when);
        std::optional<Field> targets = r.get("targets");
        std::optional<Field> split = r.get("split");
        if (targets && split) {
          problem(r.path("split"), "a rule has either targets or split, not both");
        } else if (split) {
          routeSplit(*split, rule);
        } else if (std::optional<Field> t = require(r, "targets")) {
          rule.targets = modelList(*t, "");
          if (!nonEmptyList(t) && !t->node.IsScalar() && !t->node.IsMap()) {
            problem(t->path, "must list at least one model");
          }
        }
        route.rules.push_back(std::move(rule));
      }
    }
    if (std::optional<Field> field = m.get("default")) {
      route.default_targets = modelList(*field, "");
    }
    if (!nonEmptyList(m.get("default")) && !nonEmptyList(m.get("rules"))) {
      problem(m.path(), "needs a non-empty default or at least one rule");
    }
    if (named) {
      name_paths.push_back(m.path("name"));
      config.routes.push_back(std::move(route));
    }
  }
}

void Loader::failover(const Field& f, FailoverConfig& out) {
  static constexpr std::array<std::string_view, 3> kKeys = {"eject_after", "eject_for",
                                                            "when_all_ejected"};
  MapReader m(*this, f, kKeys);
  set(m, "eject_after", out.eject_after, [&](const Field& v) { return integer(v, 1, 1000); });
  set(m, "eject_for", out.eject_for, [&](const Field& v) { return duration(v, false); });
  set(m, "when_all_ejected", out.when_all_ejected,
      [&](const Field& v) { return oneOf(v, kWhenAllEjected); });
}

void Loader::truncation(const Field& f, TruncationConfig& out) {
  static constexpr std::array<std::string_view, 2> kKeys = {"action", "reprocess_on"};
  MapReader m(*this, f, kKeys);
  bool action_ok = true;
  if (std::optional<Field> field = m.get("action")) {
    std::optional<std::string> value = oneOf(*field, kTruncationActions);
    if (value) out.action = *value;
    action_ok = value.has_value();
  }
  if (std::optional<Field> field = m.get("reprocess_on")) {
    if (std::optional<std::string> value = name(*field)) {
      out.reprocess_on = *value;
      model_refs_.push_back(ModelReference{field->path, *value, "", ""});
    }
  } else if (action_ok && out.action == "reprocess") {
    problem(m.path("reprocess_on"), "missing required key (action is reprocess)");
  }
}

void Loader::cache(const Field& f, CacheConfig& out) {
  static constexpr std::array<std::string_view, 3> kKeys = {"mode", "l1", "redis"};
  static constexpr std::array<std::string_view, 2> kL1Keys = {"max_bytes", "ttl"};
  static constexpr std::array<std::string_view, 4> kRedisKeys = {"url", "ttl", "timeout",
                                                                 "password_env"};
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 1> kRedisRefused = {{
      {"password",
       "passwords must not be written in the config file; put it in an environment variable and "
       "name it with password_env"},
  }};
  MapReader m(*this, f, kKeys);
  set(m, "mode", out.mode, [&](const Field& v) { return oneOf(v, kCacheModes); });
  if (std::optional<Field> l1 = m.get("l1")) {
    MapReader l(*this, *l1, kL1Keys);
    set(l, "max_bytes", out.l1_max_bytes,
        [&](const Field& v) { return size(v, 0, std::numeric_limits<std::uint64_t>::max()); });
    set(l, "ttl", out.l1_ttl, [&](const Field& v) { return duration(v, false); });
  }
  if (std::optional<Field> redis = m.get("redis"); present(redis)) {
    MapReader r(*this, *redis, kRedisKeys, kRedisRefused);
    if (!r.isMap()) return;
    RedisConfig config;
    if (std::optional<Field> url = require(r, "url")) {
      if (auto value = redisUrl(*url)) config.url = *value;
    }
    set(r, "ttl", config.ttl, [&](const Field& v) { return duration(v, false); });
    set(r, "timeout", config.timeout, [&](const Field& v) { return duration(v, false); });
    if (std::optional<Field> password = r.get("password_env")) config.password = secret(*password);
    out.redis = std::move(config);
  }
}

void Loader::controlPlane(const Field& f, std::optional<ControlPlaneConfig>& out) {
  static constexpr std::array<std::string_view, 9> kKeys = {
      "address", "node_id_env",   "report_interval", "token_env",        "cache_file",
      "tls",     "reconnect_max", "keepalive_time",  "keepalive_timeout"};
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 1> kRefused = {{
      {"token",
       "tokens must not be written in the config file; put it in an environment variable and name "
       "it with token_env"},
  }};
  static constexpr std::array<std::string_view, 3> kTlsKeys = {"ca_file", "cert_file", "key_file"};
  MapReader m(*this, f, kKeys, kRefused);
  if (!m.isMap()) return;
  ControlPlaneConfig config;
  if (std::optional<Field> address = require(m, "address")) {
    if (auto value = grpcTarget(*address)) config.address = *value;
  }
  set(m, "node_id_env", config.node_id_env, [&](const Field& v) { return envName(v); });
  set(m, "report_interval", config.report_interval,
      [&](const Field& v) { return duration(v, false); });
  if (std::optional<Field> token = m.get("token_env")) config.token = secret(*token);
  set(m, "reconnect_max", config.reconnect_max, [&](const Field& v) { return duration(v, false); });
  set(m, "keepalive_time", config.keepalive_time,
      [&](const Field& v) { return duration(v, false); });
  set(m, "keepalive_timeout", config.keepalive_timeout,
      [&](const Field& v) { return duration(v, false); });
  set(m, "cache_file", config.cache_file, [&](const Field& v) { return filePath(v); });
  if (std::optional<Field> tls = m.get("tls"); present(tls)) {
    MapReader t(*this, *tls, kTlsKeys);
    TlsFiles files;
    set(t, "ca_file", files.ca_file, [&](const Field& v) { return filePath(v); });
    set(t, "cert_file", files.cert_file, [&](const Field& v) { return filePath(v); });
    set(t, "key_file", files.key_file, [&](const Field& v) { return filePath(v); });
    if (t.get("cert_file").has_value() != t.get("key_file").has_value()) {
      problem(t.path(), "cert_file and key_file go together");
    }
    if (t.isMap()) config.tls = std::move(files);
  }
  out = std::move(config);
}

void Loader::logging(const Field& f, LoggingConfig& out) {
  static constexpr std::array<std::string_view, 3> kKeys = {"level", "access_log", "log_prompts"};
  MapReader m(*this, f, kKeys);
  set(m, "level", out.level, [&](const Field& v) { return oneOf(v, kLogLevels); });
  set(m, "access_log", out.access_log, [&](const Field& v) -> std::optional<std::string> {
    std::optional<std::string> value = nonEmptyText(v);
    if (!value || *value == "stdout" || *value == "stderr" || *value == "off") return value;
    return filePath(v);
  });
  set(m, "log_prompts", out.log_prompts, [&](const Field& v) { return boolean(v); });
}

void Loader::checkReferences(const Config& config) {
  std::vector<std::string> model_names;
  for (const ModelConfig& model : config.models) model_names.push_back(model.name);
  for (const ModelReference& ref : model_refs_) {
    const ModelConfig* model = config.findModel(ref.name);
    if (model == nullptr) {
      if (config.findRoute(ref.name) != nullptr) {
        problem(ref.path, cat("unknown model ", quote(ref.name),
                              " (it is a route alias; name a model here)"));
      } else {
        problem(ref.path,
                cat("unknown model ", quote(ref.name), suggestion(ref.name, model_names)));
      }
      continue;
    }
    if (!ref.referrer.empty() && ref.referrer == ref.name) {
      problem(ref.path, cat("model ", quote(ref.name), " cannot fall back to itself"));
    }
    if (!ref.required_provider.empty() && model->provider != ref.required_provider) {
      problem(ref.path, cat("model ", quote(ref.name), " is served by provider ",
                            quote(model->provider), ", not ", quote(ref.required_provider)));
    }
  }
}

Config Loader::load(const YAML::Node& root) {
  static constexpr std::array<std::string_view, 12> kKeys = {
      "server",   "clients",  "providers",  "models", "routes",        "retry",
      "timeouts", "failover", "truncation", "cache",  "control_plane", "logging"};
  Config config;
  MapReader top(*this, Field{root, ""}, kKeys, {}, /*allow_extensions=*/true);
  if (!top.isMap()) return config;
  const YAML::Node null_node(YAML::NodeType::Null);
  auto section = [&](std::string_view key) {
    std::optional<Field> field = top.get(key);
    return field ? *field : Field{null_node, std::string(key)};
  };
  server(section("server"), config.server);
  clients(section("clients"), config.clients);
  // Global retry and timeouts first: every provider starts from them.
  retry(section("retry"), config.retry);
  timeouts(section("timeouts"), config.timeouts);
  providers(section("providers"), config);
  models(section("models"), config);
  routes(section("routes"), config);
  failover(section("failover"), config.failover);
  truncation(section("truncation"), config.truncation);
  cache(section("cache"), config.cache);
  if (std::optional<Field> field = top.get("control_plane"); present(field)) {
    controlPlane(*field, config.control_plane);
  }
  logging(section("logging"), config.logging);
  checkReferences(config);
  return config;
}

Config Loader::loadModelsAndRoutes(const YAML::Node& root,
                                   const std::vector<ProviderConfig>* providers) {
  static constexpr std::array<std::string_view, 2> kKeys = {"models", "routes"};
  check_providers_ = providers != nullptr;
  Config config;
  if (providers != nullptr) config.providers = *providers;
  MapReader top(*this, Field{root, ""}, kKeys, {}, /*allow_extensions=*/true);
  if (!top.isMap()) return config;
  const YAML::Node null_node(YAML::NodeType::Null);
  auto section = [&](std::string_view key) {
    std::optional<Field> field = top.get(key);
    return field ? *field : Field{null_node, std::string(key)};
  };
  models(section("models"), config);
  routes(section("routes"), config);
  checkReferences(config);
  return config;
}

std::string joinProblems(const std::vector<std::string>& problems) { return join(problems, "\n"); }

}  // namespace

EnvLookup processEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<Config> loadConfigString(std::string_view yaml, std::string_view source,
                                        const EnvLookup& env, std::string_view base_dir) {
  if (yaml.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(cat(source, ": larger than ", formatSize(kMaxConfigBytes)));
  }
  try {
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(std::string(yaml));
    } catch (const YAML::ParserException& e) {
      return absl::InvalidArgumentError(cat(source, ":", e.mark.line + 1, ":", e.mark.column + 1,
                                            ": YAML syntax error: ", e.msg));
    }
    if (documents.size() > 1) {
      return absl::InvalidArgumentError(
          cat(source, ": holds ", documents.size(), " YAML documents; a config is exactly one"));
    }
    const YAML::Node root =
        documents.empty() ? YAML::Node(YAML::NodeType::Null) : documents.front();
    Loader loader(env, base_dir);
    Config config = loader.load(root);
    std::vector<std::string> problems = loader.takeProblems();
    if (!problems.empty()) return absl::InvalidArgumentError(joinProblems(problems));
    config.source = std::string(source);
    return config;
  } catch (const YAML::Exception& e) {
    return absl::InternalError(cat(source, ": reading the YAML failed: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(cat(source, ": loading the config failed: ", e.what()));
  }
}

absl::StatusOr<Config> loadConfigFile(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return absl::NotFoundError(cat(path, ": cannot open the config file: ", std::strerror(error)));
  }
  std::string content;
  std::array<char, std::size_t{64} << 10> buffer{};
  while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
    content.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
    if (content.size() > kMaxConfigBytes) {
      return absl::InvalidArgumentError(cat(path, ": larger than ", formatSize(kMaxConfigBytes)));
    }
  }
  if (in.bad()) {
    return absl::DataLossError(cat(path, ": reading the config file failed"));
  }
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  return loadConfigString(content, path, env, base_dir);
}

namespace {

absl::StatusOr<ModelsAndRoutes> loadModelsAndRoutesImpl(
    std::string_view yaml, std::string_view source, const std::vector<ProviderConfig>* providers) {
  if (yaml.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(cat(source, ": larger than ", formatSize(kMaxConfigBytes)));
  }
  try {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(yaml));
    } catch (const YAML::ParserException& e) {
      return absl::InvalidArgumentError(cat(source, ":", e.mark.line + 1, ":", e.mark.column + 1,
                                            ": YAML syntax error: ", e.msg));
    }
    const EnvLookup no_env = [](std::string_view) { return std::optional<std::string>(); };
    Loader loader(no_env, ".");
    Config config = loader.loadModelsAndRoutes(root, providers);
    std::vector<std::string> problems = loader.takeProblems();
    if (!problems.empty()) return absl::InvalidArgumentError(joinProblems(problems));
    return ModelsAndRoutes{std::move(config.models), std::move(config.routes)};
  } catch (const std::exception& e) {
    return absl::InternalError(cat(source, ": loading the routes failed: ", e.what()));
  }
}

}  // namespace

absl::StatusOr<ModelsAndRoutes> loadModelsAndRoutesString(std::string_view yaml,
                                                          std::string_view source) {
  return loadModelsAndRoutesImpl(yaml, source, nullptr);
}

absl::StatusOr<ModelsAndRoutes> loadModelsAndRoutesString(
    std::string_view yaml, std::string_view source, const std::vector<ProviderConfig>& providers) {
  return loadModelsAndRoutesImpl(yaml, source, &providers);
}

std::string_view embeddedDefaultConfig() { return kEmbeddedDefault; }

}  // namespace llmgate::config

#include "proxy/telemetry/access_log.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/status/status.h"
#include "common/log/log.h"
#include "common/text/str_cat.h"

namespace llmgate::proxy::telemetry {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one.
std::size_t utf8Length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2, cp = b0 & 0x1f, min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3, cp = b0 & 0x0f, min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// Appends `s` as a JSON string: quotes, backslashes and control characters
// (including DEL) escaped, invalid UTF-8 replaced by U+FFFD.
void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (std::size_t n = utf8Length(s, i); n > 0) {
        out.append(s.substr(i, n));
        i += n;
      } else {
        out.append("\\ufffd");
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

void appendUint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Shortest round-trip form (valid JSON: "0.00015", "1.5e-07"); null if not finite.
void appendDouble(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out.append("null");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

// Milliseconds with three decimals (microsecond resolution).
void appendMillis(std::string& out, double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9) {
    out.append("null");
    return;
  }
  const auto micros = static_cast<std::uint64_t>(std::llround(seconds * 1e6));
  appendUint(out, micros / 1000);
  const auto frac = static_cast<int>(micros % 1000);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + frac / 100));
  out.push_back(static_cast<char>('0' + frac / 10 % 10));
  out.push_back(static_cast<char>('0' + frac % 10));
}

// RFC 3339, UTC, milliseconds: 2024-05-01T12:34:56.789Z
void appendTime(std::string& out, time::SystemTime at) {
  const auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(at);
  auto millis = ms.time_since_epoch().count() % 1000;
  std::time_t secs = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(ms) -
      std::chrono::milliseconds(millis));
  if (millis < 0) millis += 1000;
  // Lines come in time order, so the formatted second is reused (one writer thread).
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[32];
  thread_local int cached_len = 0;
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    cached_len =
        std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_secs = secs;
  }
  out.push_back('"');
  out.append(cached, cached_len > 0 ? static_cast<std::size_t>(cached_len) : 0);
  const auto ms3 = static_cast<int>(millis);
  out.push_back(static_cast<char>('0' + ms3 / 100));
  out.push_back(static_cast<char>('0' + ms3 / 10 % 10));
  out.push_back(static_cast<char>('0' + ms3 % 10));
  out.append("Z\"");
}

// Writes all of `data` to `fd`, retrying on EINTR and short writes.
bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// A sink that owns its file descriptor (a file) or borrows stdout.
class FdSink {
 public:
  FdSink(int fd, bool owned) : fd_(fd), owned_(owned) {}
  FdSink(FdSink&& other) noexcept : fd_(std::exchange(other.fd_, -1)), owned_(other.owned_) {}
  FdSink(const FdSink&) = delete;
  FdSink& operator=(const FdSink&) = delete;
  FdSink& operator=(FdSink&&) = delete;
  ~FdSink() {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  void operator()(std::string_view lines) {
    if (!writeAll(fd_, lines) && !warned_) {
      warned_ = true;  // once: a full disk must not turn into a log flood (R68)
      log::warn("access log: write failed: ", std::strerror(errno));
    }
  }

 private:
  int fd_;
  bool owned_;
  bool warned_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::open(std::string_view setting,
                                                           std::size_t capacity) {
  if (setting == "off") return std::unique_ptr<AccessLog>();
  if (setting.empty() || setting == "stdout") {
    auto sink = std::make_shared<FdSink>(STDOUT_FILENO, false);
    return std::make_unique<AccessLog>([sink](std::string_view lines) { (*sink)(lines); },
                                       capacity);
  }
  const std::string path(setting);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::UnavailableError(
        strCat("logging.access_log: cannot open \"", path, "\": ", std::strerror(errno)));
  }
  auto sink = std::make_shared<FdSink>(fd, true);
  return std::make_unique<AccessLog>([sink](std::string_view lines) { (*sink)(lines); }, capacity);
}

AccessLog::AccessLog(Sink sink, std::size_t capacity)
    : sink_(std::move(sink)), capacity_(capacity > 0 ? capacity : 1) {
  queue_.reserve(std::min<std::size_t>(capacity_, 1024));
  writer_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() { stop(); }

AccessLog::Entry AccessLog::Entry::from(const RequestRecord& r, time::SystemTime at) {
  Entry e;
  std::string_view path = r.path.substr(0, r.path.find('?'));  // a query may hold a key
  const std::array<std::string_view, kFields> fields = {
      r.request_id, r.tenant, r.route, r.model, r.provider, r.method, path, r.error_code, r.cache};
  std::size_t total = 0;
  for (std::string_view f : fields) total += std::min(f.size(), kMaxFieldBytes);
  e.text.reserve(total);
  for (int i = 0; i < kFields; ++i) {
    e.offsets[i] = static_cast<std::uint16_t>(e.text.size());
    e.text.append(fields[i].substr(0, kMaxFieldBytes));
  }
  e.offsets[kFields] = static_cast<std::uint16_t>(e.text.size());
  e.at = at;
  e.status = r.status;
  e.attempts = r.attempts;
  e.stream = r.stream;
  e.truncated = r.truncated;
  e.has_ttft = r.ttft_s.has_value();
  e.ttft_s = r.ttft_s.value_or(0);
  e.prompt_tokens = r.prompt_tokens;
  e.cached_prompt_tokens = r.cached_prompt_tokens;
  e.completion_tokens = r.completion_tokens;
  e.routes_version = r.routes_version;
  e.cost_usd = r.cost_usd;
  e.saved_usd = r.saved_usd;
  e.duration_s = r.duration_s;
  return e;
}

void AccessLog::appendLine(std::string& out, const Entry& e) {
  auto key = [&out](std::string_view name) {
    if (out.back() != '{') out.push_back(',');
    out.push_back('"');
    out.append(name);
    out.append("\":");
  };
  auto str = [&](std::string_view name, Entry::Field f) {
    key(name);
    appendJsonString(out, e.field(f));
  };
  auto num = [&](std::string_view name, std::uint64_t v) {
    key(name);
    appendUint(out, v);
  };
  auto boolean = [&](std::string_view name, bool v) {
    key(name);
    out.append(v ? "true" : "false");
  };
  out.push_back('{');
  key("time");
  appendTime(out, e.at);
  str("request_id", Entry::kRequestId);
  str("tenant", Entry::kTenant);
  str("route", Entry::kRoute);
  str("model", Entry::kModel);
  str("provider", Entry::kProvider);
  str("method", Entry::kMethod);
  str("path", Entry::kPath);
  key("status");
  appendUint(out, static_cast<std::uint64_t>(std::max(e.status, 0)));
  str("error_code", Entry::kError);
  key("attempts");
  appendUint(out, static_cast<std::uint64_t>(std::max(e.attempts, 0)));
  str("cache", Entry::kCache);
  boolean("stream", e.stream);
  boolean("truncated", e.truncated);
  num("prompt_tokens", e.prompt_tokens);
  num("cached_prompt_tokens", e.cached_prompt_tokens);
  num("completion_tokens", e.completion_tokens);
  key("cost_usd");
  appendDouble(out, e.cost_usd);
  key("saved_usd");
  appendDouble(out, e.saved_usd);
  key("duration_ms");
  appendMillis(out, e.duration_s);
  key("ttft_ms");
  if (e.has_ttft) {
    appendMillis(out, e.ttft_s);
  } else {
    out.append("null");
  }
  num("routes_version", e.routes_version);
  out.append("}\n");
}

std::string AccessLog::formatLine(const RequestRecord& record, time::SystemTime at) {
  std::string out;
  appendLine(out, Entry::from(record, at));
  return out;
}

bool AccessLog::push(const RequestRecord& record, time::SystemTime at) {
  Entry entry = Entry::from(record, at);  // copied before the lock
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= capacity_) {
      ++dropped_;
      return false;
    }
    queue_.push_back(std::move(entry));
    // The writer wakes on its own every kFlushInterval; waking it per line
    // would cost a futex, a thread switch and a write(2) per request. Only a
    // queue filling up calls it early.
    wake = queue_.size() == capacity_ / 2;
  }
  if (wake) wake_.notify_one();
  return true;
}

void AccessLog::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
}

std::uint64_t AccessLog::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

// Lines reach the sink in batches, at most this long after their request.
// Short enough that one batch is formatted in well under a millisecond at
// tens of thousands of requests per second: a 100 ms batch took milliseconds
// of CPU at once, which requests on the same core waited out (their p99).
constexpr auto kFlushInterval = std::chrono::milliseconds(10);

// The writer runs at a lower priority than the workers (nice +10, which any
// thread may ask for itself): on a busy core it yields to request handling
// and still gets the few percent of CPU the lines need.
constexpr int kWriterNice = 10;

void AccessLog::run() {
  errno = 0;
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kWriterNice) != 0 && errno != 0) {
    log::debug("access log: could not lower the writer's priority: ", std::strerror(errno));
  }
  std::vector<Entry> batch;
  batch.reserve(queue_.capacity());
  std::string out;
  while (true) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, kFlushInterval,
                     [this] { return stopping_ || queue_.size() >= capacity_ / 2; });
      if (queue_.empty()) {
        if (stopping_) return;  // everything is written
        continue;
      }
      batch.swap(queue_);
    }
    out.clear();
    for (const Entry& e : batch) appendLine(out, e);
    batch.clear();
    sink_(out);
  }
}

}  // namespace llmgate::proxy::telemetry

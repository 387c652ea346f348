#include "proxy/telemetry/access_log.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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

// A line is written through a raw pointer into room reserved up front (see
// AccessLog::appendLine): no capacity check per character.
char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// Bytes copied as they are inside a JSON string: printable ASCII except '"'
// and '\\'.
constexpr std::array<bool, 256> kPlainByte = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x7f; ++c) plain[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();

// At most this many bytes per input byte (a control character: \u00XX).
constexpr std::size_t kMaxEscapedBytesPerByte = 6;

// `s` as a JSON string: quotes, backslashes and control characters
// (including DEL) escaped, invalid UTF-8 replaced by U+FFFD. Writes at most
// kMaxEscapedBytesPerByte * s.size() + 2 bytes.
char* putJsonString(char* p, std::string_view s) {
  *p++ = '"';
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t run = i;  // a run of plain bytes, copied at once
    while (run < s.size() && kPlainByte[static_cast<unsigned char>(s[run])]) ++run;
    p = put(p, s.substr(i, run - i));
    i = run;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (std::size_t n = utf8Length(s, i); n > 0) {
        p = put(p, s.substr(i, n));
        i += n;
      } else {
        p = put(p, "\\ufffd");
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        p = put(p, "\\\"");
        break;
      case '\\':
        p = put(p, "\\\\");
        break;
      case '\n':
        p = put(p, "\\n");
        break;
      case '\r':
        p = put(p, "\\r");
        break;
      case '\t':
        p = put(p, "\\t");
        break;
      default:  // another control character, or DEL
        p = put(p, "\\u00");
        *p++ = kHex[c >> 4];
        *p++ = kHex[c & 0xf];
    }
    ++i;
  }
  *p++ = '"';
  return p;
}

// At most 20 bytes.
char* putUint(char* p, std::uint64_t v) { return std::to_chars(p, p + 24, v).ptr; }

// Shortest round-trip form (valid JSON: "0.00015", "1.5e-07"); null if not
// finite. At most 24 bytes.
char* putDouble(char* p, double v) {
  if (!std::isfinite(v)) return put(p, "null");
  if (v == 0 && !std::signbit(v)) {  // the common saved_usd: what to_chars writes
    *p++ = '0';
    return p;
  }
  const auto [end, ec] = std::to_chars(p, p + 32, v);
  return ec == std::errc() ? end : p;
}

// Milliseconds with three decimals (microsecond resolution). At most 28 bytes.
char* putMillis(char* p, double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9) return put(p, "null");
  const auto micros = static_cast<std::uint64_t>(std::llround(seconds * 1e6));
  p = putUint(p, micros / 1000);
  const auto frac = static_cast<int>(micros % 1000);
  *p++ = '.';
  *p++ = static_cast<char>('0' + frac / 100);
  *p++ = static_cast<char>('0' + frac / 10 % 10);
  *p++ = static_cast<char>('0' + frac % 10);
  return p;
}

// RFC 3339, UTC, milliseconds: "2024-05-01T12:34:56.789Z" (quoted; at most
// 64 bytes).
char* putTime(char* p, time::SystemTime at) {
  const auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(at);
  auto millis = ms.time_since_epoch().count() % 1000;
  std::time_t secs = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(ms) -
      std::chrono::milliseconds(millis));
  if (millis < 0) millis += 1000;
  // Each formatting thread reuses the second it formatted last (lines of one
  // thread mostly share it).
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[32];
  thread_local int cached_len = 0;
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    cached_len =
        std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_len = std::clamp(cached_len, 0, static_cast<int>(sizeof cached) - 1);
    cached_secs = secs;
  }
  *p++ = '"';
  p = put(p, std::string_view(cached, static_cast<std::size_t>(cached_len)));
  const auto ms3 = static_cast<int>(millis);
  *p++ = static_cast<char>('0' + ms3 / 100);
  *p++ = static_cast<char>('0' + ms3 / 10 % 10);
  *p++ = static_cast<char>('0' + ms3 % 10);
  return put(p, "Z\"");
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

namespace {

std::atomic<std::uint64_t> next_log_id{1};

}  // namespace

AccessLog::AccessLog(Sink sink, std::size_t capacity)
    : sink_(std::move(sink)),
      capacity_(capacity > 0 ? capacity : 1),
      id_(next_log_id.fetch_add(1, std::memory_order_relaxed)) {
  writer_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() { stop(); }

void AccessLog::appendLine(std::string& out, const RequestRecord& r, time::SystemTime at) {
  const auto cut = [](std::string_view s) { return s.substr(0, kMaxFieldBytes); };
  const std::string_view request_id = cut(r.request_id), tenant = cut(r.tenant),
                         route = cut(r.route), model = cut(r.model), provider = cut(r.provider),
                         method = cut(r.method), error_code = cut(r.error_code),
                         cache = cut(r.cache),
                         path = cut(r.path.substr(0, r.path.find('?')));  // a query may hold a key
  const std::size_t text_bytes = request_id.size() + tenant.size() + route.size() + model.size() +
                                 provider.size() + method.size() + path.size() + error_code.size() +
                                 cache.size();
  // Room for the longest line this record can give (every string byte
  // escaped, every number at its widest), written through a pointer, then
  // cut to what was written.
  constexpr std::size_t kFixedPart = 1024;  // keys, punctuation, numbers, time
  const std::size_t start = out.size();
  out.resize(start + kFixedPart + kMaxEscapedBytesPerByte * text_bytes);
  char* p = out.data() + start;
  const auto str = [&](std::string_view key, std::string_view value) {
    p = put(p, key);
    p = putJsonString(p, value);
  };
  p = put(p, "{\"time\":");
  p = putTime(p, at);
  str(",\"request_id\":", request_id);
  str(",\"tenant\":", tenant);
  str(",\"route\":", route);
  str(",\"model\":", model);
  str(",\"provider\":", provider);
  str(",\"method\":", method);
  str(",\"path\":", path);
  p = put(p, ",\"status\":");
  p = putUint(p, static_cast<std::uint64_t>(std::max(r.status, 0)));
  str(",\"error_code\":", error_code);
  p = put(p, ",\"attempts\":");
  p = putUint(p, static_cast<std::uint64_t>(std::max(r.attempts, 0)));
  str(",\"cache\":", cache);
  p = put(p, r.stream ? ",\"stream\":true" : ",\"stream\":false");
  p = put(p, r.truncated ? ",\"truncated\":true" : ",\"truncated\":false");
  p = put(p, ",\"prompt_tokens\":");
  p = putUint(p, r.prompt_tokens);
  p = put(p, ",\"cached_prompt_tokens\":");
  p = putUint(p, r.cached_prompt_tokens);
  p = put(p, ",\"completion_tokens\":");
  p = putUint(p, r.completion_tokens);
  p = put(p, ",\"cost_usd\":");
  p = putDouble(p, r.cost_usd);
  p = put(p, ",\"saved_usd\":");
  p = putDouble(p, r.saved_usd);
  p = put(p, ",\"duration_ms\":");
  p = putMillis(p, r.duration_s);
  p = put(p, ",\"ttft_ms\":");
  p = r.ttft_s.has_value() ? putMillis(p, *r.ttft_s) : put(p, "null");
  p = put(p, ",\"routes_version\":");
  p = putUint(p, r.routes_version);
  p = put(p, "}\n");
  out.resize(static_cast<std::size_t>(p - out.data()));
}

std::string AccessLog::formatLine(const RequestRecord& record, time::SystemTime at) {
  std::string out;
  appendLine(out, record, at);
  return out;
}

AccessLog::Lane& AccessLog::laneOfThisThread() {
  // The lane of the log this thread pushed to last; a thread pushing to two
  // logs in turn finds its lane again under mu_.
  thread_local std::uint64_t cached_log = 0;
  thread_local Lane* cached_lane = nullptr;
  if (cached_log == id_) return *cached_lane;
  const std::thread::id self = std::this_thread::get_id();
  std::lock_guard lock(mu_);
  Lane* lane = nullptr;
  for (const auto& l : lanes_) {
    if (l->owner == self) lane = l.get();
  }
  if (lane == nullptr) {
    lanes_.push_back(std::make_unique<Lane>());
    lane = lanes_.back().get();
    lane->owner = self;
  }
  cached_log = id_;
  cached_lane = lane;
  return *lane;
}

bool AccessLog::push(const RequestRecord& record, time::SystemTime at) {
  Lane& lane = laneOfThisThread();
  bool half_full = false;
  {
    std::lock_guard lock(lane.mu);
    // Read under the lane's lock: the writer's last drain takes every lane's
    // lock after stop() set it, so a line appended here is always written.
    if (stopping_.load(std::memory_order_relaxed) || lane.count >= capacity_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    appendLine(lane.lines, record, at);
    // The writer wakes on its own every kFlushInterval; waking it per line
    // would cost a futex, a thread switch and a write(2) per request. Only a
    // lane filling up calls it early.
    half_full = ++lane.count == (capacity_ + 1) / 2;
  }
  if (half_full) {
    {
      std::lock_guard lock(mu_);
      wake_requested_ = true;
    }
    wake_.notify_one();
  }
  return true;
}

void AccessLog::stop() {
  stopping_.store(true, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
}

std::uint64_t AccessLog::dropped() const { return dropped_.load(std::memory_order_relaxed); }

// Lines reach the sink in batches, at most this long after their request.
// Short enough that a batch is written in well under a millisecond at tens
// of thousands of requests per second.
constexpr auto kFlushInterval = std::chrono::milliseconds(10);

// The writer runs at a lower priority than the workers (nice +10, which any
// thread may ask for itself): on a busy core it yields to request handling.
// It only swaps buffers and calls write(2).
constexpr int kWriterNice = 10;

// A drained buffer larger than this is freed rather than kept for reuse.
constexpr std::size_t kKeepBufferBytes = 4 << 20;

void AccessLog::run() {
  errno = 0;
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kWriterNice) != 0 && errno != 0) {
    log::debug("access log: could not lower the writer's priority: ", std::strerror(errno));
  }
  std::vector<Lane*> lanes;
  while (true) {
    bool last = false;
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, kFlushInterval, [this] { return stop_requested_ || wake_requested_; });
      wake_requested_ = false;
      last = stop_requested_;  // stopping_ is set: no line gets in after this drain
      lanes.clear();
      for (const auto& l : lanes_) lanes.push_back(l.get());
    }
    for (Lane* lane : lanes) {
      {
        std::lock_guard lock(lane->mu);
        if (lane->count == 0) continue;
        lane->drained.swap(lane->lines);  // both keep their capacity
        lane->count = 0;
      }
      sink_(lane->drained);
      lane->drained.clear();
      // A burst may have grown the buffer far beyond what the steady rate
      // needs: give that memory back.
      if (lane->drained.capacity() > kKeepBufferBytes) std::string().swap(lane->drained);
    }
    if (last) return;
  }
}

}  // namespace llmgate::proxy::telemetry

// The access log: one JSON line per request (docs/METRICS.md, "Access log").
//
// Logging never blocks a worker: push() copies the record's fields into a
// bounded queue under a short lock and returns; one background thread turns
// the queued records into lines and writes them in batches (stdout or a file,
// `logging.access_log`). When the queue is full the record is dropped and
// push() says so (counted as llmgate_access_log_dropped_total). stop() drains
// the queue and flushes before it returns.
//
// The record holds no prompt text and no secrets (R72, R74). Client-controlled
// strings are cut to kMaxFieldBytes, the path loses its query string, and
// every string is JSON-escaped (control characters as \u00XX, invalid UTF-8
// as U+FFFD), so a line is always one valid JSON object.
#pragma once

#include <array>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/time/clock.h"
#include "proxy/telemetry/stats.h"

namespace llmgate::proxy::telemetry {

class AccessLog {
 public:
  // Receives a batch of whole lines (each ending in '\n') on the writer thread.
  using Sink = std::function<void(std::string_view lines)>;

  static constexpr std::size_t kDefaultCapacity = 16384;
  static constexpr std::size_t kMaxFieldBytes = 256;

  // `setting` is config `logging.access_log`: "stdout", "off" or a file path
  // (opened for append, created 0640). "off" gives nullptr.
  static absl::StatusOr<std::unique_ptr<AccessLog>> open(std::string_view setting,
                                                         std::size_t capacity = kDefaultCapacity);

  // Starts the writer thread; `sink` is called from it only.
  AccessLog(Sink sink, std::size_t capacity = kDefaultCapacity);
  ~AccessLog();  // stop()
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Queues one line for `record`, finished at `at`. False if it was dropped
  // (queue full, or stop() was called). Thread-safe, never waits on I/O.
  bool push(const RequestRecord& record, time::SystemTime at);

  // Writes everything queued, then ends the writer thread. Idempotent.
  void stop();

  std::uint64_t dropped() const;

  // The line for `record` (with its '\n'); what the writer thread writes.
  static std::string formatLine(const RequestRecord& record, time::SystemTime at);

 private:
  // A record's strings packed into one buffer (one allocation per request).
  struct Entry {
    enum Field { kRequestId, kTenant, kRoute, kModel, kProvider, kMethod, kPath, kError, kCache };
    static constexpr int kFields = 9;
    std::string text;
    std::array<std::uint16_t, kFields + 1> offsets{};
    time::SystemTime at;
    int status = 0;
    int attempts = 0;
    bool stream = false;
    bool truncated = false;
    bool has_ttft = false;
    std::uint64_t prompt_tokens = 0;
    std::uint64_t cached_prompt_tokens = 0;
    std::uint64_t completion_tokens = 0;
    std::uint64_t routes_version = 0;
    double cost_usd = 0;
    double saved_usd = 0;
    double duration_s = 0;
    double ttft_s = 0;

    static Entry from(const RequestRecord& record, time::SystemTime at);
    std::string_view field(Field f) const {
      return std::string_view(text).substr(offsets[f], offsets[f + 1] - offsets[f]);
    }
  };

  static void appendLine(std::string& out, const Entry& entry);
  void run();

  Sink sink_;
  const std::size_t capacity_;
  mutable std::mutex mu_;  // guards the fields below; held for a push_back or a swap
  std::condition_variable wake_;
  std::vector<Entry> queue_;
  bool stopping_ = false;
  std::uint64_t dropped_ = 0;
  std::thread writer_;
};

}  // namespace llmgate::proxy::telemetry

// The access log: one JSON line per request (docs/METRICS.md, "Access log").
//
// Logging never blocks a worker on I/O and takes no process-wide lock per
// request: push() formats the line on the calling thread into that thread's
// own lane (a buffer behind a lock only the writer thread ever contends
// for, once per batch) and returns. One background thread swaps each lane's
// lines out every kFlushInterval and writes them in batches (stdout or a
// file, `logging.access_log`). A lane holding `capacity` lines refuses more
// until the writer empties it: push() says so and the line is counted as
// llmgate_access_log_dropped_total. stop() writes everything pushed before it
// and flushes before it returns. Lines of one thread keep their order; lines
// of different threads interleave batch by batch (each carries its time).
//
// The record holds no prompt text and no secrets (R72, R74). Client-controlled
// strings are cut to kMaxFieldBytes, the path loses its query string, and
// every string is JSON-escaped (control characters as \u00XX, invalid UTF-8
// as U+FFFD), so a line is always one valid JSON object.
#pragma once

#include <atomic>
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

  // Appends the line for `record`, finished at `at`, to the calling thread's
  // lane. False if it was dropped (lane full, or stop() was called).
  // Thread-safe, never waits on I/O.
  bool push(const RequestRecord& record, time::SystemTime at);

  // Writes everything queued, then ends the writer thread. Idempotent.
  void stop();

  std::uint64_t dropped() const;

  // The line for `record` (with its '\n'); what push() appends.
  static std::string formatLine(const RequestRecord& record, time::SystemTime at);

 private:
  // One pushing thread's lines.
  struct Lane {
    std::thread::id owner;
    std::mutex mu;          // held by push() to append, by the writer to swap
    std::string lines;      // whole lines, guarded by mu
    std::size_t count = 0;  // lines in `lines`, guarded by mu
    std::string drained;    // the writer's side of the swap; writer thread only
  };

  static void appendLine(std::string& out, const RequestRecord& record, time::SystemTime at);
  Lane& laneOfThisThread();
  void run();

  Sink sink_;
  const std::size_t capacity_;  // lines per lane
  const std::uint64_t id_;      // tells this log from an earlier one at the same address
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> dropped_{0};
  std::mutex mu_;  // guards the fields below; never held while formatting or writing
  std::condition_variable wake_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  bool wake_requested_ = false;  // a lane is half full
  bool stop_requested_ = false;
  std::thread writer_;
};

}  // namespace llmgate::proxy::telemetry

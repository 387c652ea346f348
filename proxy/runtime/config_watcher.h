// Watches the --config file and reports when its content changed (R66;
// docs/DATA_PLANE.md "Reload"). A thread of its own polls `stat` every
// `server.config_watch_interval`, so neither a worker nor the signal thread
// ever waits on the file system.
//
// Kubernetes mounts a ConfigMap as `config.yaml -> ..data/config.yaml` with
// `..data -> ..2026_11_24_…` and updates it by swapping the `..data` link:
// the path's own mtime never changes. So the watcher stat()s through every
// link and compares the resolved file's device, inode, size and mtime; when
// any differs it reads the file and compares a SHA-256 of the content, and
// only a different content is reported (a `touch` or a re-link to the same
// bytes is not). A file that is missing or unreadable for a while (the swap,
// an editor's rename) is logged once and keeps the current config.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/config/schema.h"
#include "proxy/cache/sha256.h"

namespace llmgate::proxy::runtime {

// One version of a file, as seen through its symlinks.
struct FileFingerprint {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  cache::Sha256Digest content{};  // zero when only stat()ed

  bool sameStat(const FileFingerprint& other) const {
    return device == other.device && inode == other.inode && size == other.size &&
           mtime_ns == other.mtime_ns;
  }
};

// stat() of the resolved file (symlinks followed); `content` left zero.
absl::StatusOr<FileFingerprint> statFile(const std::string& path);
// stat() and a SHA-256 of the content. Fails if the file changed while read.
absl::StatusOr<FileFingerprint> fingerprintFile(const std::string& path);

class ConfigWatcher {
 public:
  using OnChange = std::function<void()>;

  // `on_change` runs on the watcher's thread: it should only post the reload
  // to where reloads run.
  ConfigWatcher(std::string path, config::Duration interval, OnChange on_change);
  ~ConfigWatcher();
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  // Takes the current file as the baseline and starts polling. An interval
  // of 0 takes the baseline but does not poll.
  void start();
  void stop();
  // A reload may change server.config_watch_interval; 0 pauses polling.
  void setInterval(config::Duration interval);

  // One poll: true when the content changed since the last poll (and
  // on_change was called). Public for tests; start() calls it in a loop.
  bool checkOnce();

 private:
  void loop();

  const std::string path_;
  const OnChange on_change_;
  std::atomic<std::int64_t> interval_ms_;
  std::optional<FileFingerprint> last_;  // the watcher thread's, or the caller's of checkOnce
  bool unreadable_logged_ = false;
  std::mutex mu_;  // for the sleep between polls only
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace llmgate::proxy::runtime

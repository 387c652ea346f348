#include "proxy/runtime/config_watcher.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/log/log.h"
#include "common/text/str_cat.h"

namespace llmgate::proxy::runtime {

absl::StatusOr<FileFingerprint> statFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return absl::UnavailableError(strCat("cannot stat ", path, ": ", std::strerror(err)));
  }
  FileFingerprint fp;
  fp.device = st.st_dev;
  fp.inode = st.st_ino;
  fp.size = st.st_size;
  fp.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return fp;
}

absl::StatusOr<FileFingerprint> fingerprintFile(const std::string& path) {
  absl::StatusOr<FileFingerprint> before = statFile(path);
  if (!before.ok()) return before.status();
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(strCat("cannot read ", path));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return absl::UnavailableError(strCat("cannot read ", path));
  absl::StatusOr<FileFingerprint> after = statFile(path);
  if (!after.ok()) return after.status();
  if (!before->sameStat(*after)) {
    return absl::UnavailableError(strCat(path, " changed while it was read"));
  }
  after->content = cache::sha256(content.str());
  return after;
}

ConfigWatcher::ConfigWatcher(std::string path, config::Duration interval, OnChange on_change)
    : path_(std::move(path)), on_change_(std::move(on_change)), interval_ms_(interval.count()) {}

ConfigWatcher::~ConfigWatcher() { stop(); }

void ConfigWatcher::start() {
  if (auto fp = fingerprintFile(path_); fp.ok()) last_ = *fp;
  thread_ = std::thread([this] { loop(); });
}

void ConfigWatcher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ConfigWatcher::setInterval(config::Duration interval) {
  interval_ms_.store(interval.count());
  wake_.notify_all();
}

void ConfigWatcher::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const std::int64_t ms = interval_ms_.load();
    if (ms <= 0) {
      wake_.wait_for(lock, std::chrono::seconds(1));  // paused: re-read the interval
      continue;
    }
    if (wake_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; })) break;
    lock.unlock();
    checkOnce();
    lock.lock();
  }
}

bool ConfigWatcher::checkOnce() {
  absl::StatusOr<FileFingerprint> now = statFile(path_);
  if (now.ok() && last_ && last_->sameStat(*now)) return false;
  if (now.ok()) now = fingerprintFile(path_);
  if (!now.ok()) {
    if (!unreadable_logged_) {
      log::warn("config watch: ", std::string(now.status().message()),
                "; the current config keeps serving");
      unreadable_logged_ = true;
    }
    return false;
  }
  unreadable_logged_ = false;
  const bool changed = !last_ || last_->content != now->content;
  last_ = *now;
  if (!changed) return false;
  log::info("config watch: ", path_, " changed; reloading");
  on_change_();
  return true;
}

}  // namespace llmgate::proxy::runtime

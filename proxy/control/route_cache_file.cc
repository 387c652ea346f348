#include "proxy/control/route_cache_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/log/log.h"
#include "common/text/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace llmgate::proxy::control {
namespace {

constexpr std::size_t kMaxCacheBytes = 16u << 20;

absl::Status errnoStatus(std::string_view what, const std::string& path) {
  const int error = errno;
  return absl::InternalError(strCat(what, " ", path, ": ", std::strerror(error)));
}

absl::Status writeAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("writing", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status writeCacheFile(const std::string& path,
                            const ::llmgate::control::v1::RouteSnapshot& snapshot) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  if (auto s = google::protobuf::util::MessageToJsonString(snapshot, &text, options); !s.ok()) {
    return absl::InternalError(strCat("encoding the route cache: ", s.ToString()));
  }
  const std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  const std::string temp = strCat(path, ".tmp.", ::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return errnoStatus("creating", temp);
  absl::Status status = writeAll(fd, text, temp);
  if (status.ok() && ::fsync(fd) != 0) status = errnoStatus("fsync of", temp);
  if (::close(fd) != 0 && status.ok()) status = errnoStatus("closing", temp);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = errnoStatus("renaming onto", path);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // best effort: the rename itself is done
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::StatusOr<::llmgate::control::v1::RouteSnapshot> readCacheFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(strCat(path, ": no route cache yet"));
    return absl::InternalError(strCat("opening ", path, ": ", std::strerror(error)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = std::move(buffer).str();
  if (text.size() > kMaxCacheBytes) {
    return absl::InvalidArgumentError(strCat(path, ": larger than 16 MiB"));
  }
  ::llmgate::control::v1::RouteSnapshot snapshot;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (auto s = google::protobuf::util::JsonStringToMessage(text, &snapshot, options); !s.ok()) {
    return absl::InvalidArgumentError(
        strCat(path, ": not a route snapshot: ", std::string(s.message())));
  }
  return snapshot;
}

CacheWriter::CacheWriter(std::string path) : path_(std::move(path)), thread_([this] { run(); }) {}

CacheWriter::~CacheWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CacheWriter::write(const ::llmgate::control::v1::RouteSnapshot& snapshot) {
  {
    std::lock_guard lock(mu_);
    pending_ = snapshot;
  }
  cv_.notify_all();
}

void CacheWriter::flush() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !pending_ && !busy_; });
}

void CacheWriter::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || pending_.has_value(); });
    if (!pending_) return;  // stop_ and nothing left
    ::llmgate::control::v1::RouteSnapshot snapshot = std::move(*pending_);
    pending_.reset();
    busy_ = true;
    lock.unlock();
    if (absl::Status s = writeCacheFile(path_, snapshot); !s.ok()) {
      log::warn("control plane: route cache not written: ", std::string(s.message()));
    }
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace llmgate::proxy::control

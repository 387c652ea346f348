// control_plane.cache_file: the last applied RouteSnapshot as protobuf JSON,
// so that a proxy restarted while the control plane is down still serves the
// table it had (R25-R27). Written atomically: temp file in the same folder,
// fsync, rename, fsync of the folder. Blocking I/O: call these on a
// non-worker thread only (CacheWriter below, or startup before the workers).
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "llmgate/control/v1/route_discovery.pb.h"

namespace llmgate::proxy::control {

absl::Status writeCacheFile(const std::string& path,
                            const ::llmgate::control::v1::RouteSnapshot& snapshot);
// NotFound when the file does not exist; InvalidArgument when it is not a snapshot.
absl::StatusOr<::llmgate::control::v1::RouteSnapshot> readCacheFile(const std::string& path);

// One background thread writing the latest snapshot handed to it: a burst of
// snapshots collapses to the newest, and the caller (a gRPC thread) never
// waits on the disk.
class CacheWriter {
 public:
  explicit CacheWriter(std::string path);
  ~CacheWriter();  // writes what is pending, then joins
  CacheWriter(const CacheWriter&) = delete;
  CacheWriter& operator=(const CacheWriter&) = delete;

  void write(const ::llmgate::control::v1::RouteSnapshot& snapshot);
  // Blocks until everything handed over so far is on disk (tests).
  void flush();

 private:
  void run();

  std::string path_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<::llmgate::control::v1::RouteSnapshot> pending_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace llmgate::proxy::control

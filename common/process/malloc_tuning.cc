#include "common/process/malloc_tuning.h"

#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace llmgate::process {

void applyMallocTunables(char** argv) {
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  const char* opt_out = std::getenv("LLMGATE_MALLOC_DEFAULTS");
  if (opt_out != nullptr && std::strcmp(opt_out, "1") == 0) return;
  const char* current = std::getenv("GLIBC_TUNABLES");
  if (current != nullptr && std::strstr(current, "glibc.malloc.tcache_count") != nullptr) return;
  std::string value = current != nullptr && *current != '\0'
                          ? std::string(current) + ":" + kMallocTunables
                          : std::string(kMallocTunables);
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  // The binary's own path, not /proc/self/exe: the kernel names a process
  // after the file it executes, and `ps`, `top` and `pgrep llmgate` would
  // otherwise show "exe". A binary replaced on disk since the start reads as
  // "PATH (deleted)": that exec fails and /proc/self/exe runs the old image.
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    execv(self, argv);
  }
  execv("/proc/self/exe", argv);
  // exec failed (no /proc, say): run on with glibc's defaults, and leave the
  // environment of the processes this one starts as it was.
  if (current != nullptr) {
    setenv("GLIBC_TUNABLES", current, 1);
  } else {
    unsetenv("GLIBC_TUNABLES");
  }
#else
  (void)argv;
#endif
}

}  // namespace llmgate::process

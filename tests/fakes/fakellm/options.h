// fakellm's command line (docs/FAKELLM.md lists every flag).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/fakes/fakellm/behaviour.h"
#include "tests/fakes/fakellm/timing.h"

namespace llmgate::fakellm {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: the kernel picks a free port
  bool allow_non_loopback = false;
  int threads = 1;
  int64_t latency_ms = 0;
  int64_t ttft_ms = 0;
  double tokens_per_sec = 0;  // 0: as fast as possible
  LatencyDist latency_dist = LatencyDist::kFixed;
  int64_t latency_jitter_ms = 0;
  int64_t cold_start_ms = 0;
  int64_t idle_ms = 0;
  std::string require_key;  // empty: any key (or none) is accepted
  uint64_t seed = 0;
  int64_t answer_words = 24;
  int embedding_dims = 8;
  int64_t context_window = 0;   // 0: no limit
  int64_t max_concurrency = 0;  // chat requests in flight; over it: the dialect's 429
  bool strict = true;           // --lenient: skip the providers' request validation
  bool prompt_cache = true;     // --no-prompt-cache: DeepSeek cache hits always 0
  bool help = false;
  bool version = false;

  // The process-wide behaviour: the lowest layer under every request's own.
  Behaviour defaults() const;
};

// Parses argv[1..]. `--flag value` and `--flag=value` both work. A
// non-loopback --listen address is refused without --allow-non-loopback.
absl::StatusOr<Options> parseOptions(const std::vector<std::string_view>& args);

std::string usageText();

}  // namespace llmgate::fakellm

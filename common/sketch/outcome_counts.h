// Upstream attempts by how they ended (telemetry.proto OutcomeCounts), in
// memory: what a proxy collects per interval and what the control plane adds
// up per window.
#pragma once

#include <cstdint>

namespace llmgate::sketch {

struct OutcomeCounts {
  std::uint64_t success = 0;
  std::uint64_t truncated = 0;  // a subset of `success`
  std::uint64_t rate_limited = 0;
  std::uint64_t server_error = 0;
  std::uint64_t timeout = 0;
  std::uint64_t connect_error = 0;
  std::uint64_t stream_cut = 0;
  std::uint64_t client_error = 0;

  std::uint64_t total() const {
    return success + rate_limited + server_error + timeout + connect_error + stream_cut +
           client_error;
  }
  // What the error rate counts (telemetry.proto): not client errors.
  std::uint64_t errors() const {
    return rate_limited + server_error + timeout + connect_error + stream_cut;
  }
  void add(const OutcomeCounts& o) {
    success += o.success;
    truncated += o.truncated;
    rate_limited += o.rate_limited;
    server_error += o.server_error;
    timeout += o.timeout;
    connect_error += o.connect_error;
    stream_cut += o.stream_cut;
    client_error += o.client_error;
  }
};

}  // namespace llmgate::sketch

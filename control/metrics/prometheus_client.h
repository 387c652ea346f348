// PrometheusClient: instant queries against a Prometheus server's HTTP API
// (GET /api/v1/query?query=...), one at a time, with a timeout on connect,
// write and read. Plain HTTP (Boost.Beast); blocking for its caller, so it
// runs on the metrics source's own thread, never on a gRPC thread.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace llmgate::control::metrics {

// One element of an instant vector.
struct PromSample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

class PrometheusClient {
 public:
  // `url`: "http://host:port" with an optional path prefix ("/prom").
  static absl::StatusOr<PrometheusClient> create(const std::string& url,
                                                 std::chrono::milliseconds timeout);

  // Runs `promql` as an instant query; a non-vector result or an API error
  // is an error naming the query.
  absl::StatusOr<std::vector<PromSample>> query(const std::string& promql) const;

  // Parses an /api/v1/query answer (exposed for tests).
  static absl::StatusOr<std::vector<PromSample>> parseQueryResponse(const std::string& body);

 private:
  PrometheusClient(std::string host, std::string port, std::string prefix,
                   std::chrono::milliseconds timeout)
      : host_(std::move(host)),
        port_(std::move(port)),
        prefix_(std::move(prefix)),
        timeout_(timeout) {}
  absl::StatusOr<std::string> get(const std::string& target) const;

  std::string host_;
  std::string port_;
  std::string prefix_;
  std::chrono::milliseconds timeout_;
};

}  // namespace llmgate::control::metrics

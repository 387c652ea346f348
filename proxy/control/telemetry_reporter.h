// TelemetryReporter: every `interval`, drains the collector and writes one
// TelemetryReport on a long-lived Telemetry.Report stream (ReportStream).
//
// Bounded (R34): at most one write in flight; when the previous write has not
// completed at the end of an interval, that interval is dropped and counted
// (llmgate_telemetry_reports_dropped_total), never queued. A write stuck for
// kStallIntervals intervals (a control plane that stopped reading) cancels
// the stream. Broken streams are reopened with jittered exponential backoff
// (0.5 s doubling to 30 s); sequence numbers restart at 1 on each stream and
// grow by one per interval, dropped ones included, so the server sees gaps.
// Runs on its own thread plus gRPC's; the request path only feeds the
// collector.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/config/schema.h"
#include "grpcpp/grpcpp.h"
#include "llmgate/control/v1/telemetry.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "proxy/control/telemetry_collector.h"

namespace llmgate::proxy::control {

class ReportStream;

struct TelemetryReporterOptions {
  std::string address;  // host:port of llmgate-control
  std::string token;    // node token, may be empty
  std::string node_id;
  std::chrono::milliseconds interval{5000};
  std::optional<config::TlsFiles> tls;
  // The route table version served now ("" for the proxy's own config).
  std::function<std::string()> route_version;
};

class TelemetryReporter {
 public:
  static constexpr int kStallIntervals = 3;

  // `registry` (may be null) receives the reporter's counters.
  static absl::StatusOr<std::unique_ptr<TelemetryReporter>> create(TelemetryReporterOptions options,
                                                                   TelemetryCollector& collector,
                                                                   prometheus::Registry* registry);
  ~TelemetryReporter();
  TelemetryReporter(const TelemetryReporter&) = delete;
  TelemetryReporter& operator=(const TelemetryReporter&) = delete;

  void start();
  // Cancels the stream and joins the thread (idempotent).
  void stop();

  std::uint64_t reportsSent() const { return sent_.load(); }
  std::uint64_t reportsDropped() const { return dropped_.load(); }

 private:
  TelemetryReporter(TelemetryReporterOptions options, TelemetryCollector& collector,
                    std::shared_ptr<grpc::Channel> channel, prometheus::Registry* registry);
  void run();
  void tickOnce(std::chrono::steady_clock::time_point now);
  void closeStream();
  void drop();

  const TelemetryReporterOptions options_;
  TelemetryCollector& collector_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<llmgate::control::v1::Telemetry::Stub> stub_;
  prometheus::Counter* sent_counter_ = nullptr;
  prometheus::Counter* dropped_counter_ = nullptr;
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> dropped_{0};

  // Reporter thread only.
  std::unique_ptr<ReportStream> stream_;
  std::uint64_t sequence_ = 0;
  int stalled_ = 0;
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point reconnect_at_{};
  std::chrono::system_clock::time_point interval_start_{};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace llmgate::proxy::control

#include "proxy/control/telemetry_reporter.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "common/log/log.h"
#include "common/text/str_cat.h"
#include "common/time/clock.h"
#include "proxy/control/report_stream.h"
#include "proxy/control/telemetry_report.h"

namespace llmgate::proxy::control {

namespace v1 = llmgate::control::v1;

namespace {

constexpr std::chrono::milliseconds kMinBackoff{500};
constexpr std::chrono::milliseconds kMaxBackoff{30000};

absl::StatusOr<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(strCat("cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials(
    const std::optional<config::TlsFiles>& tls) {
  if (!tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!tls->ca_file.empty()) {
    auto ca = readFile(tls->ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
  }
  if (!tls->cert_file.empty()) {
    auto cert = readFile(tls->cert_file);
    auto key = readFile(tls->key_file);
    if (!cert.ok()) return cert.status();
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::SslCredentials(ssl);
}

std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<long> pick(d.count() / 2, d.count());
  return std::chrono::milliseconds(pick(rng));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TelemetryReporter>> TelemetryReporter::create(
    TelemetryReporterOptions options, TelemetryCollector& collector,
    prometheus::Registry* registry) {
  auto creds = credentials(options.tls);
  if (!creds.ok()) {
    return absl::InvalidArgumentError(
        strCat("control_plane.tls: ", std::string(creds.status().message())));
  }
  grpc::ChannelArguments args;
  // A control plane that stops answering (stopped, partitioned) is noticed by
  // keepalive pings, so the stream breaks and is reopened.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 30000);
  auto channel = grpc::CreateCustomChannel(options.address, *creds, args);
  return std::unique_ptr<TelemetryReporter>(
      new TelemetryReporter(std::move(options), collector, std::move(channel), registry));
}

TelemetryReporter::TelemetryReporter(TelemetryReporterOptions options,
                                     TelemetryCollector& collector,
                                     std::shared_ptr<grpc::Channel> channel,
                                     prometheus::Registry* registry)
    : options_(std::move(options)),
      collector_(collector),
      channel_(std::move(channel)),
      stub_(v1::Telemetry::NewStub(channel_)) {
  if (registry != nullptr) {
    sent_counter_ = &prometheus::BuildCounter()
                         .Name("llmgate_telemetry_reports_sent_total")
                         .Help("Telemetry reports written to the control plane")
                         .Register(*registry)
                         .Add({});
    dropped_counter_ =
        &prometheus::BuildCounter()
             .Name("llmgate_telemetry_reports_dropped_total")
             .Help("Telemetry intervals dropped: previous write not done or no stream (R34)")
             .Register(*registry)
             .Add({});
  }
}

TelemetryReporter::~TelemetryReporter() { stop(); }

void TelemetryReporter::start() {
  interval_start_ = time::systemNow();
  thread_ = std::thread([this] { run(); });
}

void TelemetryReporter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  closeStream();
}

void TelemetryReporter::run() {
  auto next = time::steadyNow() + options_.interval;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (cv_.wait_until(lock, next, [this] { return stopping_; })) break;
    lock.unlock();
    tickOnce(time::steadyNow());
    lock.lock();
    next += options_.interval;
    const auto now = time::steadyNow();
    if (next < now) next = now + options_.interval;  // we slept through intervals
  }
}

void TelemetryReporter::drop() {
  dropped_.fetch_add(1);
  if (dropped_counter_ != nullptr) dropped_counter_->Increment();
}

void TelemetryReporter::closeStream() {
  if (!stream_) return;
  stream_->cancel();
  if (!stream_->waitDone(std::chrono::seconds(10))) {
    // gRPC still owns the reactor: leak it rather than free it under a reaction.
    log::warn("control plane telemetry: stream did not finish after cancel");
    static_cast<void>(stream_.release());
    return;
  }
  stream_.reset();
}

void TelemetryReporter::tickOnce(std::chrono::steady_clock::time_point now) {
  const auto interval_end = time::systemNow();
  std::vector<TargetDelta> targets = collector_.drain();
  const std::string route_version = options_.route_version ? options_.route_version() : "";
  v1::TelemetryReport report = makeReport(targets, interval_start_, interval_end, route_version);
  interval_start_ = interval_end;

  if (stream_ && stream_->done()) {
    const bool worked = stream_->writesCompleted() > 0;
    log::warn("control plane telemetry stream to ", options_.address,
              " ended: ", stream_->doneMessage());
    stream_.reset();
    backoff_ = worked ? kMinBackoff : std::clamp(backoff_ * 2, kMinBackoff, kMaxBackoff);
    reconnect_at_ = now + jittered(backoff_);
  }
  if (!stream_) {
    if (now < reconnect_at_) {
      drop();
      return;
    }
    stream_ = std::make_unique<ReportStream>(*stub_, options_.token);
    sequence_ = 0;
    stalled_ = 0;
  }
  ++sequence_;
  report.set_sequence(sequence_);
  if (sequence_ == 1) {
    report.mutable_node()->set_id(options_.node_id);
    report.mutable_node()->set_build_version(LLMGATE_VERSION);
  }
  switch (stream_->offer(std::move(report))) {
    case ReportStream::Offer::kStarted:
      stalled_ = 0;
      if (stream_->writesCompleted() > 0) backoff_ = std::chrono::milliseconds(0);
      sent_.fetch_add(1);
      if (sent_counter_ != nullptr) sent_counter_->Increment();
      return;
    case ReportStream::Offer::kBusy:
      drop();
      if (++stalled_ >= kStallIntervals) {
        log::warn("control plane telemetry: a write pending for ", stalled_,
                  " intervals; reopening the stream");
        stream_->cancel();  // OnDone follows; the next tick reopens
      }
      return;
    case ReportStream::Offer::kBroken:
      drop();
      return;
  }
}

}  // namespace llmgate::proxy::control

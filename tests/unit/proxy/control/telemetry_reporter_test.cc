// TelemetryReporter against an in-process Telemetry server on 127.0.0.1:0:
// metadata, node id, sequence numbers, reconnect after a broken stream, and
// R34: a server that stops reading makes intervals drop (counted), never
// blocks the collector or stop().
#include "proxy/control/telemetry_reporter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "llmgate/control/v1/telemetry.grpc.pb.h"

namespace llmgate::proxy::control {
namespace {

namespace v1 = llmgate::control::v1;
using std::chrono::milliseconds;

class FakeTelemetry final : public v1::Telemetry::CallbackService {
 public:
  struct Seen {
    int stream = 0;
    v1::TelemetryReport report;
  };

  class Reader final : public grpc::ServerReadReactor<v1::TelemetryReport> {
   public:
    Reader(FakeTelemetry& owner, grpc::CallbackServerContext* context, int stream)
        : owner_(owner), stream_(stream) {
      auto it = context->client_metadata().find("authorization");
      std::lock_guard lock(owner_.mu_);
      owner_.auth_.push_back(it == context->client_metadata().end()
                                 ? std::string()
                                 : std::string(it->second.data(), it->second.size()));
      owner_.live_.insert(this);
      if (owner_.paused_) {
        owner_.parked_.insert(this);
      } else {
        StartRead(&report_);
      }
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      bool fail = false;
      {
        std::lock_guard lock(owner_.mu_);
        owner_.seen_.push_back({stream_, report_});
        if (owner_.fail_streams_ > 0) {
          --owner_.fail_streams_;
          fail = true;
        } else if (owner_.paused_) {
          owner_.parked_.insert(this);
          return;
        }
      }
      if (fail) {
        Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "test: going away"));
        return;
      }
      StartRead(&report_);
    }
    void OnDone() override {
      {
        std::lock_guard lock(owner_.mu_);
        owner_.parked_.erase(this);
        owner_.live_.erase(this);
      }
      delete this;
    }
    void resume() { StartRead(&report_); }

   private:
    FakeTelemetry& owner_;
    const int stream_;
    v1::TelemetryReport report_;
  };

  grpc::ServerReadReactor<v1::TelemetryReport>* Report(grpc::CallbackServerContext* context,
                                                       v1::ReportAck*) override {
    int stream;
    {
      std::lock_guard lock(mu_);
      stream = ++streams_;
    }
    return new Reader(*this, context, stream);
  }

  void pause() {
    std::lock_guard lock(mu_);
    paused_ = true;
  }
  void resume() {
    std::set<Reader*> parked;
    {
      std::lock_guard lock(mu_);
      paused_ = false;
      parked.swap(parked_);
    }
    for (Reader* r : parked) r->resume();
  }
  void failNextReports(int n) {
    std::lock_guard lock(mu_);
    fail_streams_ = n;
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  std::vector<std::string> auth() {
    std::lock_guard lock(mu_);
    return auth_;
  }

 private:
  std::mutex mu_;
  int streams_ = 0;
  bool paused_ = false;
  int fail_streams_ = 0;
  std::vector<Seen> seen_;
  std::vector<std::string> auth_;
  std::set<Reader*> parked_;
  std::set<Reader*> live_;
};

class ReporterTest : public ::testing::Test {
 protected:
  ReporterTest() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~ReporterTest() override {
    service_.resume();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
  }

  std::unique_ptr<TelemetryReporter> reporter(milliseconds interval) {
    TelemetryReporterOptions options;
    options.address = "127.0.0.1:" + std::to_string(port_);
    options.token = "node-secret";
    options.node_id = "node-7";
    options.interval = interval;
    options.route_version = [] { return std::string("42"); };
    auto made = TelemetryReporter::create(std::move(options), collector_, nullptr);
    EXPECT_TRUE(made.ok()) << made.status();
    return std::move(*made);
  }

  template <typename Pred>
  bool eventually(Pred pred, milliseconds timeout = milliseconds(10000)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return pred();
  }

  FakeTelemetry service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  TelemetryCollector collector_;
};

TEST_F(ReporterTest, SendsNodeTokenSequenceAndDeltas) {
  auto r = reporter(milliseconds(100));
  collector_.onUpstreamAttempt("a", "pa", telemetry::AttemptOutcome::kSuccess);
  r->start();
  ASSERT_TRUE(eventually([&] { return service_.seen().size() >= 3; }));
  r->stop();
  const auto seen = service_.seen();
  ASSERT_FALSE(service_.auth().empty());
  EXPECT_EQ(service_.auth()[0], "Bearer node-secret");
  EXPECT_EQ(seen[0].report.node().id(), "node-7");
  EXPECT_EQ(seen[0].report.sequence(), 1u);
  EXPECT_EQ(seen[1].report.sequence(), 2u);
  EXPECT_FALSE(seen[1].report.has_node());
  EXPECT_EQ(seen[0].report.route_version(), "42");
  // The attempt is in exactly one report; quiet intervals carry no targets.
  int with_targets = 0;
  for (const auto& s : seen) {
    if (s.report.targets_size() > 0) {
      ++with_targets;
      EXPECT_EQ(s.report.targets(0).model(), "a");
      EXPECT_EQ(s.report.targets(0).outcomes().success(), 1u);
    }
  }
  EXPECT_EQ(with_targets, 1);
  EXPECT_EQ(r->reportsDropped(), 0u);
}

TEST_F(ReporterTest, ReopensABrokenStreamAndRestartsTheSequence) {
  service_.failNextReports(1);
  auto r = reporter(milliseconds(100));
  r->start();
  ASSERT_TRUE(eventually([&] {
    const auto seen = service_.seen();
    return std::any_of(seen.begin(), seen.end(), [](const auto& s) { return s.stream == 2; });
  }));
  r->stop();
  for (const auto& s : service_.seen()) {
    if (s.stream == 2) {
      EXPECT_EQ(s.report.sequence(), 1u);
      EXPECT_EQ(s.report.node().id(), "node-7");
      break;
    }
  }
  EXPECT_GE(service_.auth().size(), 2u);
}

TEST_F(ReporterTest, R34_AServerThatStopsReadingDropsIntervalsAndNeverBlocks) {
  service_.pause();
  auto r = reporter(milliseconds(50));
  r->start();
  // Large reports (many targets) fill the HTTP/2 window within a few writes.
  std::atomic<bool> feeding{true};
  double worst_call_ms = 0;
  std::thread feeder([&] {
    int round = 0;
    while (feeding.load()) {
      for (int m = 0; m < 400; ++m) {
        const std::string model = "model-" + std::to_string(m) + "-" + std::to_string(round);
        const auto start = std::chrono::steady_clock::now();
        collector_.onUpstreamAttempt(model, "p", telemetry::AttemptOutcome::kSuccess);
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        worst_call_ms = std::max(worst_call_ms, ms);
      }
      ++round;
      std::this_thread::sleep_for(milliseconds(5));
    }
  });
  const bool dropped = eventually([&] { return r->reportsDropped() >= 3; }, milliseconds(15000));
  feeding = false;
  feeder.join();
  EXPECT_TRUE(dropped) << "sent " << r->reportsSent() << ", dropped " << r->reportsDropped();
  // A collector call is a map update under an uncontended lock: never a wait on the network.
  EXPECT_LT(worst_call_ms, 100.0);
  // Reading again: reports flow again (on the stalled stream or a reopened one).
  const std::size_t seen_before = service_.seen().size();
  service_.resume();
  EXPECT_TRUE(eventually([&] { return service_.seen().size() > seen_before + 2; }));
  const auto stop_start = std::chrono::steady_clock::now();
  r->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace llmgate::proxy::control

// RouteDiscovery, Telemetry and Admin over real gRPC (in-process server on
// port 0), with a controlled clock for the policy loop.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "common/config/control_loader.h"
#include "control/service/admin_service.h"
#include "control/service/controller.h"
#include "control/service/convert.h"
#include "control/service/route_discovery_service.h"
#include "control/service/telemetry_service.h"

namespace llmgate::control::service {
namespace {

using std::chrono::seconds;

class TestClock final : public time::Clock {
 public:
  time::SteadyTime steadyNow() const override { return time::SteadyTime(offset()); }
  time::SystemTime systemNow() const override {
    return time::SystemTime(std::chrono::duration_cast<time::SystemTime::duration>(offset()));
  }
  void advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  std::chrono::milliseconds offset() const {
    std::lock_guard lock(mu_);
    return now_;
  }
  mutable std::mutex mu_;
  std::chrono::milliseconds now_{std::chrono::seconds(1'700'000'000)};
};

constexpr char kToken[] = "test-admin-token";

class Server {
 public:
  Server(const config::ControlConfig& config, const time::Clock& clock)
      : controller_(config, clock),
        admin_token_(std::string(kToken)),
        routes_(controller_, nullptr),
        telemetry_(controller_, nullptr),
        admin_(controller_, admin_token_) {
    EXPECT_TRUE(controller_.start().ok());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&routes_);
    builder.RegisterService(&telemetry_);
    builder.RegisterService(&admin_);
    server_ = builder.BuildAndStart();
  }
  ~Server() {
    server_->Shutdown(std::chrono::system_clock::now() + seconds(2));
    server_->Wait();
  }
  std::shared_ptr<grpc::Channel> channel() const {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                               grpc::InsecureChannelCredentials());
  }
  Controller& controller() { return controller_; }

 private:
  Controller controller_;
  TokenChecker admin_token_;
  RouteDiscoveryService routes_;
  TelemetryService telemetry_;
  AdminService admin_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

class ControlServiceTest : public ::testing::Test {
 protected:
  ControlServiceTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("llmgate-control-test-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "routes.yaml") << "models:\n"
                                           "  - {name: model-a, provider: fake}\n"
                                           "  - {name: model-b, provider: fake}\n"
                                           "routes:\n"
                                           "  - {name: auto, default: [model-a, model-b]}\n";
    std::ofstream(dir_ / "control.yaml")
        << "listen: \"127.0.0.1:0\"\nstate_file: state.json\nroutes_file: routes.yaml\n"
           "window: 60s\nevaluate_every: 5s\npolicies:\n"
           "  - {model: model-a, p95_latency_max: 3s, min_samples: 50, shift_to: model-b,\n"
           "     shift_for: 5m, probe_percent: 5}\n";
    absl::StatusOr<config::ControlConfig> loaded =
        config::loadControlConfigFile((dir_ / "control.yaml").string());
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    config_ = *loaded;
  }
  ~ControlServiceTest() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  config::ControlConfig config_;
  TestClock clock_;
};

// A blocking subscriber: reads snapshots and answers them.
class Subscriber {
 public:
  explicit Subscriber(const std::shared_ptr<grpc::Channel>& channel,
                      const std::string& version = "")
      : stub_(v1::RouteDiscovery::NewStub(channel)) {
    context_.set_deadline(std::chrono::system_clock::now() + seconds(20));
    stream_ = stub_->StreamRoutes(&context_);
    v1::RouteRequest hello;
    hello.mutable_node()->set_id("node-1");
    hello.set_version_info(version);
    EXPECT_TRUE(stream_->Write(hello));
  }
  ~Subscriber() {
    context_.TryCancel();
    (void)stream_->Finish();
  }
  v1::RouteSnapshot read() {
    v1::RouteSnapshot snapshot;
    EXPECT_TRUE(stream_->Read(&snapshot)) << "waited for a snapshot";
    return snapshot;
  }
  void ack(const v1::RouteSnapshot& snapshot) {
    v1::RouteRequest request;
    request.set_version_info(snapshot.version());
    request.set_response_nonce(snapshot.nonce());
    EXPECT_TRUE(stream_->Write(request));
  }
  void nack(const v1::RouteSnapshot& snapshot, const std::string& kept) {
    v1::RouteRequest request;
    request.set_version_info(kept);
    request.set_response_nonce(snapshot.nonce());
    request.mutable_error_detail()->set_code(3);
    request.mutable_error_detail()->set_message("routes[0].default[0]: unknown model \"x\"");
    EXPECT_TRUE(stream_->Write(request));
  }

 private:
  std::unique_ptr<v1::RouteDiscovery::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::RouteRequest, v1::RouteSnapshot>> stream_;
};

void authorize(grpc::ClientContext& context, const std::string& token = kToken) {
  context.AddMetadata("authorization", "Bearer " + token);
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
}

grpc::Status shift(v1::Admin::Stub& admin, v1::SetOverrideResponse* response) {
  grpc::ClientContext context;
  authorize(context);
  v1::SetOverrideRequest request;
  request.mutable_override()->set_subject("model-a");
  request.mutable_override()->mutable_shift()->set_to("model-b");
  request.mutable_override()->mutable_shift()->set_weight(0.5);
  request.mutable_ttl()->set_seconds(600);
  return admin.SetOverride(&context, request, response);
}

// Waits (bounded) until the server has seen what the test just wrote.
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_F(ControlServiceTest, SubscriberGetsV1ThenOverrideV2AndNackIsRecorded) {
  Server server(config_, clock_);
  Subscriber subscriber(server.channel());
  v1::RouteSnapshot first = subscriber.read();
  EXPECT_EQ(first.version(), "1");
  EXPECT_EQ(first.models_size(), 2);
  EXPECT_EQ(first.routes_size(), 1);
  EXPECT_FALSE(first.nonce().empty());
  subscriber.ack(first);

  auto admin = v1::Admin::NewStub(server.channel());
  v1::SetOverrideResponse set;
  ASSERT_TRUE(shift(*admin, &set).ok());
  EXPECT_EQ(set.route_version(), "2");
  v1::RouteSnapshot second = subscriber.read();
  EXPECT_EQ(second.version(), "2");
  ASSERT_EQ(second.overrides_size(), 1);
  EXPECT_EQ(second.overrides(0).shift().to(), "model-b");
  EXPECT_NE(second.nonce(), first.nonce());

  // The proxy refuses v2 and keeps v1.
  subscriber.nack(second, "1");
  ASSERT_TRUE(eventually([&] { return server.controller().counters().nacks.load() == 1; }));
  grpc::ClientContext context;
  authorize(context);
  v1::GetRouteTableResponse table;
  ASSERT_TRUE(admin->GetRouteTable(&context, v1::GetRouteTableRequest(), &table).ok());
  EXPECT_EQ(table.snapshot().version(), "2");
  ASSERT_EQ(table.nodes_size(), 1);
  EXPECT_EQ(table.nodes(0).node().id(), "node-1");
  EXPECT_EQ(table.nodes(0).acked_version(), "1");
  EXPECT_EQ(table.nodes(0).nacked_version(), "2");
  EXPECT_EQ(table.nodes(0).last_error().code(), 3);
}

TEST_F(ControlServiceTest, SubscriberWithCurrentVersionGetsNothingUntilAChange) {
  Server server(config_, clock_);
  Subscriber subscriber(server.channel(), "1");
  auto admin = v1::Admin::NewStub(server.channel());
  v1::SetOverrideResponse set;
  ASSERT_TRUE(shift(*admin, &set).ok());
  EXPECT_EQ(subscriber.read().version(), "2");  // not "1" first
}

TEST_F(ControlServiceTest, BadOrMissingTokenIsUnauthenticated) {
  Server server(config_, clock_);
  auto admin = v1::Admin::NewStub(server.channel());
  {
    grpc::ClientContext context;
    authorize(context, "wrong");
    v1::ListTargetsResponse response;
    EXPECT_EQ(admin->ListTargets(&context, v1::ListTargetsRequest(), &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    v1::SetOverrideResponse response;
    v1::SetOverrideRequest request;
    request.mutable_override()->set_subject("model-a");
    request.mutable_override()->mutable_drain();
    EXPECT_EQ(admin->SetOverride(&context, request, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    authorize(context, "wrong");
    auto reader = admin->WatchDecisions(&context, v1::WatchDecisionsRequest());
    v1::Decision decision;
    EXPECT_FALSE(reader->Read(&decision));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(server.controller().counters().auth_failures.load(), 3u);
  EXPECT_EQ(server.controller().current()->overrides_size(), 0);
}

TEST_F(ControlServiceTest, InvalidOverrideNamesTheField) {
  Server server(config_, clock_);
  auto admin = v1::Admin::NewStub(server.channel());
  grpc::ClientContext context;
  authorize(context);
  v1::SetOverrideRequest request;
  request.mutable_override()->set_subject("model-a");
  request.mutable_override()->mutable_shift()->set_to("mistal");
  v1::SetOverrideResponse response;
  grpc::Status status = admin->SetOverride(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("override.shift.to"), std::string::npos);
}

TEST_F(ControlServiceTest, RestartKeepsOverridesThresholdsAndVersions) {
  std::string id;
  {
    Server server(config_, clock_);
    auto admin = v1::Admin::NewStub(server.channel());
    v1::SetOverrideResponse set;
    ASSERT_TRUE(shift(*admin, &set).ok());
    id = set.override().id();
    grpc::ClientContext context;
    authorize(context);
    v1::SetThresholdsRequest request;
    request.mutable_policy()->set_model("model-b");
    request.mutable_policy()->mutable_p95_latency_max()->set_seconds(9);
    request.mutable_policy()->set_shift_to("model-a");
    request.mutable_policy()->mutable_shift_for()->set_seconds(60);
    v1::SetThresholdsResponse response;
    ASSERT_TRUE(admin->SetThresholds(&context, request, &response).ok());
  }
  Server server(config_, clock_);
  std::shared_ptr<const v1::RouteSnapshot> table = server.controller().current();
  EXPECT_EQ(table->version(), "3");  // versions keep growing across restarts
  ASSERT_EQ(table->overrides_size(), 1);
  EXPECT_EQ(table->overrides(0).id(), id);
  v1::GetThresholdsResponse thresholds = server.controller().getThresholds({});
  ASSERT_EQ(thresholds.policies_size(), 2);
  Subscriber subscriber(server.channel(), "2");
  EXPECT_EQ(subscriber.read().overrides_size(), 1);
}

TEST_F(ControlServiceTest, SlowTelemetryLeadsToAShiftPushedToSubscribersAndWatchers) {
  Server server(config_, clock_);
  Subscriber subscriber(server.channel());
  subscriber.ack(subscriber.read());

  auto admin = v1::Admin::NewStub(server.channel());
  grpc::ClientContext watch_context;
  authorize(watch_context);
  watch_context.set_deadline(std::chrono::system_clock::now() + seconds(20));
  auto watch = admin->WatchDecisions(&watch_context, v1::WatchDecisionsRequest());

  auto telemetry = v1::Telemetry::NewStub(server.channel());
  grpc::ClientContext report_context;
  report_context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  v1::ReportAck ack;
  auto writer = telemetry->Report(&report_context, &ack);
  for (int node = 0; node < 2; ++node) {
    v1::TelemetryReport report;
    report.mutable_node()->set_id("node-" + std::to_string(node));
    report.set_sequence(1);
    v1::TargetReport* target = report.add_targets();
    target->set_model("model-a");
    target->set_provider("fake");
    target->mutable_outcomes()->set_success(40);
    sketch::LatencySketch latency;
    for (int i = 0; i < 40; ++i) latency.add(i < 30 ? 1.0 : 4.0);  // p95 = 4 s
    toProto(latency, target->mutable_latency());
    v1::TargetReport* unknown = report.add_targets();
    unknown->set_model("no-such-model");
    ASSERT_TRUE(writer->Write(report));
  }
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(ack.received(), 2u);
  EXPECT_EQ(ack.rejected_targets(), 2u);

  clock_.advance(seconds(5));
  v1::ListTargetsRequest only_a;
  only_a.add_models("model-a");
  v1::ListTargetsResponse targets = server.controller().listTargets(only_a);
  ASSERT_EQ(targets.targets_size(), 1);
  EXPECT_EQ(targets.targets(0).samples(), 80u);
  EXPECT_EQ(targets.targets(0).reporting_nodes(), 1u);  // one stream, one node
  EXPECT_EQ(targets.targets(0).health(), v1::TargetStatus::HEALTH_DEGRADED);
  EXPECT_NEAR(fromProto(targets.targets(0).latency_p95()).count(), 4000, 80);

  server.controller().tick();
  v1::RouteSnapshot shifted = subscriber.read();
  EXPECT_EQ(shifted.version(), "2");
  ASSERT_EQ(shifted.overrides_size(), 1);
  EXPECT_EQ(shifted.overrides(0).origin(), v1::Override::ORIGIN_POLICY);
  EXPECT_EQ(shifted.overrides(0).shift().to(), "model-b");
  EXPECT_DOUBLE_EQ(shifted.overrides(0).shift().weight(), 0.95);

  v1::Decision decision;
  ASSERT_TRUE(watch->Read(&decision));
  EXPECT_EQ(decision.kind(), v1::Decision::KIND_SHIFT_STARTED);
  EXPECT_EQ(decision.subject(), "model-a");
  EXPECT_EQ(decision.route_version(), "2");
  EXPECT_NE(decision.reason().find("p95"), std::string::npos) << decision.reason();
  watch_context.TryCancel();
  (void)watch->Finish();
}

}  // namespace
}  // namespace llmgate::control::service

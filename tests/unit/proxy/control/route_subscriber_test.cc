// RouteSubscriber against an in-process scripted RouteDiscovery server: what
// the proxy sends (node, version, token), its ACK and NACK, and the
// re-subscription with the version it kept after the stream ends.
#include "proxy/control/route_subscriber.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "llmgate/control/v1/route_discovery.grpc.pb.h"

namespace llmgate::proxy::control {
namespace {

namespace v1 = ::llmgate::control::v1;
using namespace std::chrono_literals;

v1::RouteSnapshot snapshot(const std::string& version, const std::string& nonce) {
  v1::RouteSnapshot s;
  s.set_version(version);
  s.set_nonce(nonce);
  return s;
}

// Stream 1: sends v1 (expects an ACK) and v2 (expects a NACK), then ends.
// Stream 2: records the subscription and stays open until the client leaves.
// Any stream without the right token is refused with UNAUTHENTICATED.
class ScriptedServer final : public v1::RouteDiscovery::Service {
 public:
  grpc::Status StreamRoutes(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::RouteSnapshot, v1::RouteRequest>* stream) override {
    const auto auth = context->client_metadata().find("authorization");
    const bool authorized =
        auth != context->client_metadata().end() &&
        std::string(auth->second.data(), auth->second.size()) == "Bearer node-token";
    v1::RouteRequest first;
    if (!stream->Read(&first)) return grpc::Status::CANCELLED;
    int stream_number = 0;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(first);
      stream_number = ++streams_;
      if (!authorized) ++refused_;
    }
    cv_.notify_all();
    if (!authorized) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unknown node token");
    if (stream_number == 1) {
      v1::RouteRequest answer;
      stream->Write(snapshot("1", "n1"));
      if (!stream->Read(&answer)) return grpc::Status::CANCELLED;
      record(answer);
      stream->Write(snapshot("2", "n2"));
      if (!stream->Read(&answer)) return grpc::Status::CANCELLED;
      record(answer);
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "going away");
    }
    v1::RouteRequest ignored;
    while (stream->Read(&ignored)) {
    }
    return grpc::Status::OK;
  }

  template <typename Pred>
  bool waitFor(Pred pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return pred(); });
  }

  int streamCount() {
    std::lock_guard lock(mu_);
    return streams_;
  }

  void record(const v1::RouteRequest& request) {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::RouteRequest> requests_;
  int streams_ = 0;
  int refused_ = 0;
};

class RouteSubscriberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override { server_->Shutdown(); }

  SubscriberOptions options(std::optional<std::string> token) {
    SubscriberOptions o;
    o.address = "127.0.0.1:" + std::to_string(port_);
    o.node_id = "pod-7";
    o.build_version = "9.9.9";
    o.token = std::move(token);
    o.backoff_initial = 50ms;
    o.backoff_max = 200ms;
    return o;
  }

  ScriptedServer service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(RouteSubscriberTest, AcksNacksAndResubscribesWithTheVersionKept) {
  std::mutex mu;
  std::string served = "0";
  std::vector<bool> connected;
  RouteSubscriber subscriber(
      options("node-token"),
      [&](const RouteSubscriber::Snapshot& s) {
        if (s.version() == "2") {
          return absl::InvalidArgumentError("models[1].provider: unknown provider \"x\"");
        }
        std::lock_guard lock(mu);
        served = s.version();
        return absl::OkStatus();
      },
      [&] {
        std::lock_guard lock(mu);
        return served;
      },
      [&](bool c) {
        std::lock_guard lock(mu);
        connected.push_back(c);
      },
      [] { return 0.0; });
  ASSERT_TRUE(subscriber.start().ok());
  // first request, ACK, NACK, second stream's first request
  ASSERT_TRUE(service_.waitFor([&] { return service_.requests_.size() >= 4; }));
  {
    std::lock_guard lock(service_.mu_);
    const auto& r = service_.requests_;
    EXPECT_EQ(r[0].node().id(), "pod-7");
    EXPECT_EQ(r[0].node().build_version(), "9.9.9");
    EXPECT_EQ(r[0].version_info(), "0");
    EXPECT_EQ(r[0].response_nonce(), "");
    // ACK of v1.
    EXPECT_EQ(r[1].response_nonce(), "n1");
    EXPECT_EQ(r[1].version_info(), "1");
    EXPECT_FALSE(r[1].has_error_detail());
    // NACK of v2: the version kept, code 3, the path.
    EXPECT_EQ(r[2].response_nonce(), "n2");
    EXPECT_EQ(r[2].version_info(), "1");
    ASSERT_TRUE(r[2].has_error_detail());
    EXPECT_EQ(r[2].error_detail().code(), 3);
    EXPECT_EQ(r[2].error_detail().message(), "models[1].provider: unknown provider \"x\"");
    // The new stream starts from the version kept.
    EXPECT_EQ(r[3].node().id(), "pod-7");
    EXPECT_EQ(r[3].version_info(), "1");
    EXPECT_EQ(r[3].response_nonce(), "");
  }
  // The second stream stays up: connected again.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!subscriber.status().connected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(subscriber.status().connected);
  EXPECT_NE(subscriber.status().last_error.find("going away"), std::string::npos)
      << subscriber.status().last_error;
  subscriber.stop();
  EXPECT_FALSE(subscriber.status().connected);
  std::lock_guard lock(mu);
  ASSERT_GE(connected.size(), 3u);  // up, down after stream 1, up again, down at stop
  EXPECT_TRUE(connected.front());
}

TEST_F(RouteSubscriberTest, WrongTokenIsRefusedAndRetriedWithBackoff) {
  RouteSubscriber subscriber(
      options("not-the-token"), [](const RouteSubscriber::Snapshot&) { return absl::OkStatus(); },
      [] { return ""; }, [](bool) {}, [] { return 0.5; });
  ASSERT_TRUE(subscriber.start().ok());
  ASSERT_TRUE(service_.waitFor([&] { return service_.refused_ >= 2; }));  // it retries
  subscriber.stop();
  const SubscriberStatus status = subscriber.status();
  EXPECT_FALSE(status.connected);
  EXPECT_NE(status.last_error.find("16"), std::string::npos) << status.last_error;
  EXPECT_EQ(status.last_error.find("not-the-token"), std::string::npos);
}

// TLS (and mTLS) to the control plane: the proxy trusts only `tls.ca_file`
// and presents `cert_file`/`key_file` (R82).
class RouteSubscriberTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "cp-tls-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    for (const char* name : {"server", "other"}) {
      const std::string command =
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
          "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
          path(name) + ".key -out " + path(name) + ".crt >/dev/null 2>&1";
      if (std::system(command.c_str()) != 0) GTEST_SKIP() << "openssl cannot make a certificate";
    }
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = read(path("server") + ".crt");  // clients present this same cert
    ssl.pem_key_cert_pairs.push_back(
        {read(path("server") + ".key"), read(path("server") + ".crt")});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    std::filesystem::remove_all(dir_);
  }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  static std::string read(const std::string& file) {
    std::ifstream in(file);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // Runs a subscriber with `tls` for a while; the versions it applied.
  std::vector<std::string> subscribe(config::TlsFiles tls, bool should_connect) {
    SubscriberOptions o;
    o.address = "127.0.0.1:" + std::to_string(port_);
    o.node_id = "pod-tls";
    o.token = "node-token";
    o.tls = std::move(tls);
    o.backoff_initial = 50ms;
    o.backoff_max = 200ms;
    std::mutex mu;
    std::vector<std::string> applied;
    RouteSubscriber subscriber(
        o,
        [&](const RouteSubscriber::Snapshot& s) {
          std::lock_guard lock(mu);
          applied.push_back(s.version());
          return absl::OkStatus();
        },
        [] { return ""; }, [](bool) {}, [] { return 0.5; });
    EXPECT_TRUE(subscriber.start().ok());
    if (should_connect) {
      service_.waitFor([&] { return service_.requests_.size() >= 2; });  // first request + ACK
    } else {
      std::this_thread::sleep_for(1500ms);  // several attempts at 50-200 ms backoff
    }
    subscriber.stop();
    std::lock_guard lock(mu);
    return applied;
  }

  std::filesystem::path dir_;
  ScriptedServer service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(RouteSubscriberTlsTest, MutualTlsWithTheRightFilesSubscribes) {
  const std::vector<std::string> applied = subscribe({.ca_file = path("server") + ".crt",
                                                      .cert_file = path("server") + ".crt",
                                                      .key_file = path("server") + ".key"},
                                                     true);
  ASSERT_FALSE(applied.empty());
  EXPECT_EQ(applied.front(), "1");
}

TEST_F(RouteSubscriberTlsTest, AServerSignedByAnotherCaCannotPushRoutes) {
  const std::vector<std::string> applied = subscribe({.ca_file = path("other") + ".crt",
                                                      .cert_file = path("server") + ".crt",
                                                      .key_file = path("server") + ".key"},
                                                     false);
  EXPECT_TRUE(applied.empty());
  EXPECT_EQ(service_.streamCount(), 0);
}

TEST_F(RouteSubscriberTlsTest, WithoutAClientCertificateTheServerRefuses) {
  const std::vector<std::string> applied = subscribe({.ca_file = path("server") + ".crt"}, false);
  EXPECT_TRUE(applied.empty());
  EXPECT_EQ(service_.streamCount(), 0);
}

TEST_F(RouteSubscriberTlsTest, UnreadableFilesFailAtStart) {
  SubscriberOptions o;
  o.address = "127.0.0.1:" + std::to_string(port_);
  o.tls = config::TlsFiles{.ca_file = path("missing") + ".crt"};
  RouteSubscriber subscriber(
      o, [](const RouteSubscriber::Snapshot&) { return absl::OkStatus(); }, [] { return ""; },
      [](bool) {});
  const absl::Status s = subscriber.start();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace llmgate::proxy::control

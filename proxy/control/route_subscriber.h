// The proxy's RouteDiscovery.StreamRoutes subscription (route_discovery.proto):
// one long-lived bidirectional call at a time, driven by the gRPC C++
// callback API (grpc::ClientBidiReactor) on gRPC's own threads, never on the
// Beast workers. Each snapshot is handed to `apply`; its status becomes the
// ACK (OK) or NACK (ErrorDetail with the status code and message). When the
// call ends, one thread of this class waits a jittered exponential backoff
// (0.5 s to 30 s, full jitter; reset after a stream that stayed up 10 s)
// and opens a new one with the version then served (R30, R33).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "common/config/schema.h"
#include "llmgate/control/v1/route_discovery.grpc.pb.h"
#include "proxy/control/backoff.h"

namespace llmgate::proxy::control {

struct SubscriberOptions {
  std::string address;  // host:port (gRPC target)
  std::string node_id;
  std::string build_version;
  std::optional<std::string> token;     // sent as `authorization: Bearer <token>`
  std::optional<config::TlsFiles> tls;  // unset: plaintext
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  // HTTP/2 keepalive (control_plane.keepalive_time / keepalive_timeout).
  std::chrono::milliseconds keepalive_time{30000};
  std::chrono::milliseconds keepalive_timeout{10000};
};

// What the status line of /routes shows about the subscription.
struct SubscriberStatus {
  bool connected = false;
  std::string last_error;  // "" until a call fails
};

class RouteSubscriber {
 public:
  using Snapshot = ::llmgate::control::v1::RouteSnapshot;
  using Apply = std::function<absl::Status(const Snapshot&)>;
  using Version = std::function<std::string()>;  // the version served right now
  using OnConnected = std::function<void(bool connected)>;

  RouteSubscriber(SubscriberOptions options, Apply apply, Version version, OnConnected on_connected,
                  Backoff::Uniform uniform = randomUniform());
  ~RouteSubscriber();  // stop()
  RouteSubscriber(const RouteSubscriber&) = delete;
  RouteSubscriber& operator=(const RouteSubscriber&) = delete;

  // Reads the TLS files (if any) and starts the subscription thread.
  absl::Status start();
  // Cancels the call in progress and joins. Idempotent.
  void stop();

  SubscriberStatus status() const;

 private:
  class Call;
  void run();
  void setStatus(bool connected, std::optional<std::string> error);

  SubscriberOptions options_;
  Apply apply_;
  Version version_;
  OnConnected on_connected_;
  Backoff backoff_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::llmgate::control::v1::RouteDiscovery::Stub> stub_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  SubscriberStatus status_;
  std::thread thread_;
};

// The node id: the variable named by node_id_env, else the host name.
std::string nodeId(const std::string& node_id_env);

}  // namespace llmgate::proxy::control

// R30, a flapping control plane: an in-process RouteDiscovery server that
// resends the same snapshot version on every stream and ends each stream
// after 100 ms. For LLMGATE_R30_SECONDS (default 10; the 5-minute run of
// RELIABILITY.md is the same test with 300) the subscriber, wired to a real
// RouteTable: publishes the version once (no swap per stream), backs off
// (the backoff resets only after a stream that stayed up 10 s), and keeps
// its thread and open-FD counts flat.
#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "grpcpp/grpcpp.h"
#include "llmgate/control/v1/route_discovery.grpc.pb.h"
#include "proxy/control/route_subscriber.h"
#include "proxy/control/route_table.h"
#include "tests/unit/proxy/control/test_snapshots.h"

namespace llmgate::proxy::control {
namespace {

namespace v1 = ::llmgate::control::v1;
using namespace std::chrono_literals;

class FlappingServer final : public v1::RouteDiscovery::Service {
 public:
  grpc::Status StreamRoutes(
      grpc::ServerContext* /*context*/,
      grpc::ServerReaderWriter<v1::RouteSnapshot, v1::RouteRequest>* stream) override {
    v1::RouteRequest first;
    if (!stream->Read(&first)) return grpc::Status::CANCELLED;
    const int n = ++streams_;
    v1::RouteSnapshot snapshot = test::goodSnapshot("7");
    snapshot.set_nonce("n" + std::to_string(n));
    stream->Write(snapshot);
    std::this_thread::sleep_for(100ms);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "flapping");
  }

  std::atomic<int> streams_{0};
};

int countEntries(const char* dir) {
  DIR* d = ::opendir(dir);
  if (d == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - (std::string(dir) == "/proc/self/fd" ? 1 : 0);  // opendir's own FD
}

int durationSeconds() {
  const char* value = std::getenv("LLMGATE_R30_SECONDS");
  const int seconds = value != nullptr ? std::atoi(value) : 0;
  return seconds > 0 ? seconds : 10;
}

TEST(RouteFlappingTest, R30_FlappingStreamsBackOffWithoutReapplyingOrLeaking) {
  FlappingServer service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  std::mutex mu;              // the table (apply and version run on gRPC threads)
  std::atomic<int> swaps{0};  // published from inside applySnapshot (mu held)
  RouteTable table(test::fileConfig(), [&](std::shared_ptr<const config::Config>) { ++swaps; });
  SubscriberOptions options;
  options.address = "127.0.0.1:" + std::to_string(port);
  options.node_id = "pod-r30";
  options.build_version = "test";
  // Production backoff bounds: 500 ms doubling to 30 s, full jitter.
  RouteSubscriber subscriber(
      options,
      [&](const RouteSubscriber::Snapshot& s) {
        std::lock_guard lock(mu);
        return table.applySnapshot(s, RouteSource::kControlPlane);
      },
      [&] {
        std::lock_guard lock(mu);
        return table.version();
      },
      [](bool) {});
  ASSERT_TRUE(subscriber.start().ok());

  const int seconds = durationSeconds();
  std::this_thread::sleep_for(1s);
  const int threads_first = countEntries("/proc/self/task");
  const int fds_first = countEntries("/proc/self/fd");
  const int swaps_first = swaps.load();
  std::this_thread::sleep_for(std::chrono::seconds(seconds - 1));
  const int threads_last = countEntries("/proc/self/task");
  const int fds_last = countEntries("/proc/self/fd");
  const int streams = service.streams_.load();
  subscriber.stop();
  server->Shutdown();

  std::printf("R30: %d s, %d streams (%d without backoff), threads %d -> %d, fds %d -> %d\n",
              seconds, streams, seconds * 10, threads_first, threads_last, fds_first, fds_last);
  std::lock_guard lock(mu);
  EXPECT_EQ(swaps_first, 1);   // version 7 published once...
  EXPECT_EQ(swaps.load(), 1);  // ...and never again, whatever the number of streams
  EXPECT_EQ(table.version(), "7");
  EXPECT_GE(streams, 3);  // it does keep reconnecting
  // A stream per 100 ms would be seconds * 10; with the backoff growing to
  // 30 s it is a handful (about 8 in 10 s, about 25 in 5 minutes).
  EXPECT_LE(streams, seconds / 2 + 10);
  EXPECT_LE(threads_last, threads_first + 2);
  EXPECT_LE(fds_last, fds_first + 2);
}

}  // namespace
}  // namespace llmgate::proxy::control

// control_scale: how many RouteDiscovery subscribers one llmgate-control holds
// and how fast it pushes a new route-table version to all of them (issue 7).
//
// Opens N StreamRoutes calls (each its own node id) over N/per_channel
// channels (distinct channel args, so each channel is its own HTTP/2
// connection under the server's max-concurrent-streams), ACKs every snapshot,
// then per round calls Admin.SetOverride (a new version) and measures, per
// stream, the time from the SetOverride call to (a) the snapshot arriving and
// (b) its ACK written to the transport. Callback API: gRPC's own threads run
// every stream; the main thread only waits.
//
//   control_scale --server 127.0.0.1:50051 --streams 2000 --per-channel 100
//       --subject A --to B [--rounds 5] [--server-pid PID]
//   tokens: LLMGATE_ADMIN_TOKEN, LLMGATE_NODE_TOKEN (optional)
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "llmgate/control/v1/admin.grpc.pb.h"
#include "llmgate/control/v1/route_discovery.grpc.pb.h"

namespace {

namespace v1 = llmgate::control::v1;
using Clock = std::chrono::steady_clock;

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

struct Options {
  std::string server = "127.0.0.1:50051";
  int streams = 2000;
  int per_channel = 100;
  int rounds = 5;
  std::string subject;
  std::string to;
  long server_pid = 0;
  double timeout_s = 60;
};

// One subscriber: subscribe, then ACK every snapshot. One write in flight;
// an ACK due while one is in flight waits in `pending_` (latest wins).
class Subscriber final : public grpc::ClientBidiReactor<v1::RouteRequest, v1::RouteSnapshot> {
 public:
  Subscriber(v1::RouteDiscovery::Stub& stub, const std::string& node_id, const std::string& token)
      : node_id_(node_id) {
    if (!token.empty()) context_.AddMetadata("authorization", "Bearer " + token);
    stub.async()->StreamRoutes(&context_, this);
    out_.mutable_node()->set_id(node_id_);
    writing_ = true;
    StartWrite(&out_);
    StartRead(&in_);
    AddHold();
    StartCall();
  }

  // The version last received / last ACK written, and when.
  std::string version() {
    std::lock_guard lock(mu_);
    return version_;
  }
  std::int64_t receivedAt(const std::string& version) {
    std::lock_guard lock(mu_);
    return version == version_ ? received_ns_ : 0;
  }
  std::int64_t ackedAt(const std::string& version) {
    std::lock_guard lock(mu_);
    return version == acked_version_ ? acked_ns_ : 0;
  }
  bool failed() {
    std::lock_guard lock(mu_);
    return done_;
  }
  std::string doneMessage() {
    std::lock_guard lock(mu_);
    return done_message_;
  }

  void cancel() { context_.TryCancel(); }
  void release() { RemoveHold(); }
  bool waitDone(std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return done_; });
  }

 private:
  void OnReadDone(bool ok) override {
    if (!ok) return;
    const std::int64_t at = nowNs();
    v1::RouteRequest ack;
    ack.set_version_info(in_.version());
    ack.set_response_nonce(in_.nonce());
    bool start = false;
    {
      std::lock_guard lock(mu_);
      version_ = in_.version();
      received_ns_ = at;
      if (writing_) {
        pending_ = std::move(ack);
      } else {
        writing_ = true;
        out_ = std::move(ack);
        start = true;
      }
    }
    if (start) StartWrite(&out_);
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    const std::int64_t at = nowNs();
    bool next = false;
    {
      std::lock_guard lock(mu_);
      if (ok && !out_.version_info().empty()) {
        acked_version_ = out_.version_info();
        acked_ns_ = at;
      }
      writing_ = false;
      if (ok && pending_) {
        out_ = std::move(*pending_);
        pending_.reset();
        writing_ = true;
        next = true;
      }
    }
    if (next) StartWrite(&out_);
  }

  void OnDone(const grpc::Status& status) override {
    std::lock_guard lock(mu_);
    done_ = true;
    done_message_ = status.error_message();
    cv_.notify_all();
  }

  const std::string node_id_;
  grpc::ClientContext context_;
  v1::RouteRequest out_;
  v1::RouteSnapshot in_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool writing_ = false;
  std::optional<v1::RouteRequest> pending_;
  std::string version_;
  std::int64_t received_ns_ = 0;
  std::string acked_version_;
  std::int64_t acked_ns_ = 0;
  bool done_ = false;
  std::string done_message_;
};

long rssKb(long pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void raiseNofile() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

int usage() {
  std::cerr << "usage: control_scale --server HOST:PORT --subject MODEL --to MODEL "
               "[--streams N] [--per-channel N] [--rounds N] [--server-pid PID] "
               "[--timeout SECONDS]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string value = argv[++i];
    if (arg == "--server") {
      o.server = value;
    } else if (arg == "--streams") {
      o.streams = std::atoi(value.c_str());
    } else if (arg == "--per-channel") {
      o.per_channel = std::max(1, std::atoi(value.c_str()));
    } else if (arg == "--rounds") {
      o.rounds = std::atoi(value.c_str());
    } else if (arg == "--subject") {
      o.subject = value;
    } else if (arg == "--to") {
      o.to = value;
    } else if (arg == "--server-pid") {
      o.server_pid = std::atol(value.c_str());
    } else if (arg == "--timeout") {
      o.timeout_s = std::atof(value.c_str());
    } else {
      return usage();
    }
  }
  if (o.subject.empty() || o.to.empty()) return usage();
  const char* admin_env = std::getenv("LLMGATE_ADMIN_TOKEN");
  const char* node_env = std::getenv("LLMGATE_NODE_TOKEN");
  const std::string admin_token = admin_env ? admin_env : "";
  const std::string node_token = node_env ? node_env : "";
  raiseNofile();

  const long rss_before = rssKb(o.server_pid);
  const int channels = (o.streams + o.per_channel - 1) / o.per_channel;
  std::vector<std::shared_ptr<grpc::Channel>> chans;
  std::vector<std::unique_ptr<v1::RouteDiscovery::Stub>> stubs;
  for (int c = 0; c < channels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("llmgate.bench.channel", c);  // distinct args: a connection of its own
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    chans.push_back(grpc::CreateCustomChannel(o.server, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::RouteDiscovery::NewStub(chans.back()));
  }

  const auto open_start = Clock::now();
  std::vector<std::unique_ptr<Subscriber>> subs;
  subs.reserve(static_cast<std::size_t>(o.streams));
  for (int i = 0; i < o.streams; ++i) {
    subs.push_back(std::make_unique<Subscriber>(*stubs[static_cast<std::size_t>(i / o.per_channel)],
                                                "bench-node-" + std::to_string(i), node_token));
  }
  const auto deadline = [&] {
    return Clock::now() + std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000));
  };
  // All subscribed: every stream has received a snapshot.
  auto until = deadline();
  int ready = 0;
  while (Clock::now() < until) {
    ready = 0;
    int failed = 0;
    for (auto& s : subs) {
      if (!s->version().empty()) ++ready;
      if (s->failed()) ++failed;
    }
    if (ready + failed == o.streams) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double open_s = std::chrono::duration<double>(Clock::now() - open_start).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let ACKs land
  const long rss_after = rssKb(o.server_pid);
  std::printf("streams %d over %d channels: %d subscribed in %.2f s\n", o.streams, channels, ready,
              open_s);
  if (ready < o.streams) {
    for (auto& s : subs) {
      if (s->failed()) {
        std::printf("first failure: %s\n", s->doneMessage().c_str());
        break;
      }
    }
  }
  if (o.server_pid > 0) {
    std::printf("server VmRSS before %ld kB, after %ld kB: %.1f kB per stream\n", rss_before,
                rss_after, static_cast<double>(rss_after - rss_before) / std::max(1, ready));
  }

  auto admin_channel = grpc::CreateChannel(o.server, grpc::InsecureChannelCredentials());
  auto admin = v1::Admin::NewStub(admin_channel);
  std::vector<double> recv_ms;
  std::vector<double> ack_ms;
  std::vector<double> round_max_ms;
  std::vector<double> server_acked_ms;  // per round: all ACKs seen by the server
  int missing = 0;
  for (int round = 0; round < o.rounds; ++round) {
    v1::SetOverrideRequest request;
    request.mutable_override()->set_subject(o.subject);
    request.mutable_override()->mutable_shift()->set_to(o.to);
    // A different weight each round: a replacing override, a new version.
    request.mutable_override()->mutable_shift()->set_weight(0.5 + 0.05 * (round % 10));
    request.mutable_override()->set_reason("control_scale bench");
    request.mutable_ttl()->set_seconds(600);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + admin_token);
    v1::SetOverrideResponse response;
    const std::int64_t t0 = nowNs();
    grpc::Status status = admin->SetOverride(&ctx, request, &response);
    const double call_ms = static_cast<double>(nowNs() - t0) / 1e6;
    if (!status.ok()) {
      std::fprintf(stderr, "SetOverride failed: %s\n", status.error_message().c_str());
      return 1;
    }
    // The new version: what the streams receive after t0 (read from one
    // stream once it changes).
    std::string version;
    until = deadline();
    int acked = 0;
    while (Clock::now() < until) {
      acked = 0;
      if (version.empty()) {
        for (auto& s : subs) {
          std::string v = s->version();
          if (!v.empty() && s->receivedAt(v) >= t0) {
            version = v;
            break;
          }
        }
      }
      if (!version.empty()) {
        for (auto& s : subs) {
          if (s->ackedAt(version) > 0) ++acked;
        }
        if (acked == ready) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // The server's view: poll GetRouteTable until every bench node's
    // acked_version is the new one (resolution: one poll, a few ms).
    double server_all_acked_ms = -1;
    while (!version.empty() && Clock::now() < until) {
      grpc::ClientContext table_ctx;
      table_ctx.AddMetadata("authorization", "Bearer " + admin_token);
      v1::GetRouteTableResponse table;
      const grpc::Status table_status =
          admin->GetRouteTable(&table_ctx, v1::GetRouteTableRequest(), &table);
      if (!table_status.ok()) break;
      int server_acked = 0;
      for (const auto& node : table.nodes()) {
        if (node.acked_version() == version) ++server_acked;
      }
      if (server_acked >= ready) {
        server_all_acked_ms = static_cast<double>(nowNs() - t0) / 1e6;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    server_acked_ms.push_back(server_all_acked_ms);
    double worst = 0;
    for (auto& s : subs) {
      const std::int64_t r = s->receivedAt(version);
      const std::int64_t a = s->ackedAt(version);
      if (r == 0 || a == 0) {
        ++missing;
        continue;
      }
      recv_ms.push_back(static_cast<double>(r - t0) / 1e6);
      ack_ms.push_back(static_cast<double>(a - t0) / 1e6);
      worst = std::max(worst, ack_ms.back());
    }
    round_max_ms.push_back(worst);
    std::printf(
        "round %d: version %s, SetOverride call %.1f ms, %d/%d acked, max %.1f ms; server "
        "had all ACKs by %.1f ms\n",
        round + 1, version.c_str(), call_ms, acked, ready, worst, server_all_acked_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  std::printf(
      "decision -> snapshot received: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu samples)\n",
      percentile(recv_ms, 0.5), percentile(recv_ms, 0.99), percentile(recv_ms, 1.0),
      recv_ms.size());
  std::printf("decision -> ACK written:       p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              percentile(ack_ms, 0.5), percentile(ack_ms, 0.99), percentile(ack_ms, 1.0));
  std::printf("missing (stream got no new version in time): %d\n", missing);
  const long rss_end = rssKb(o.server_pid);
  if (o.server_pid > 0) std::printf("server VmRSS at end %ld kB\n", rss_end);

  for (auto& s : subs) s->cancel();
  for (auto& s : subs) s->release();
  for (auto& s : subs) s->waitDone(std::chrono::seconds(10));
  const bool ok = ready == o.streams && missing == 0 && percentile(ack_ms, 0.99) < 1000.0;
  std::printf("target (all %d streams, p99 < 1000 ms): %s\n", o.streams, ok ? "met" : "NOT met");
  return ok ? 0 : 1;
}

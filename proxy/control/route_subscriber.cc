#include "proxy/control/route_subscriber.h"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <sstream>

#include "absl/status/statusor.h"
#include "common/log/log.h"
#include "common/text/str_cat.h"
#include "common/time/clock.h"
#include "grpcpp/grpcpp.h"

namespace llmgate::proxy::control {
namespace {

namespace v1 = ::llmgate::control::v1;

absl::StatusOr<std::string> readPem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(strCat("control_plane.tls: cannot read ", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return std::move(buffer).str();
}

// A stream that stayed up this long counts as working: the backoff restarts.
constexpr auto kHealthyStream = std::chrono::seconds(10);
// READY channel and a call not refused within this: the subscription is up
// (the server sends nothing while the proxy already has its version).
constexpr auto kAcceptedAfter = std::chrono::milliseconds(300);

}  // namespace

// One StreamRoutes call. At most one write in flight; ACKs queue behind it.
class RouteSubscriber::Call final
    : public grpc::ClientBidiReactor<v1::RouteRequest, v1::RouteSnapshot> {
 public:
  Call(RouteSubscriber& owner, v1::RouteRequest first) : owner_(owner) {
    if (owner_.options_.token) {
      context_.AddMetadata("authorization", strCat("Bearer ", *owner_.options_.token));
    }
    owner_.stub_->async()->StreamRoutes(&context_, this);
    enqueue(std::move(first));
    StartRead(&in_);
    StartCall();
  }

  void cancel() { context_.TryCancel(); }

  bool done() const {
    std::lock_guard lock(mu_);
    return done_;
  }
  bool gotSnapshot() const {
    std::lock_guard lock(mu_);
    return got_snapshot_;
  }
  grpc::Status finalStatus() const {
    std::lock_guard lock(mu_);
    return status_;
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended; OnDone follows
    {
      std::lock_guard lock(mu_);
      got_snapshot_ = true;
    }
    owner_.setStatus(true, std::nullopt);
    const absl::Status applied = owner_.apply_(in_);
    v1::RouteRequest answer;
    answer.set_response_nonce(in_.nonce());
    answer.set_version_info(owner_.version_());
    if (applied.ok()) {
      log::info("control plane: route table version ", in_.version(), " applied (ACK)");
    } else {
      answer.mutable_error_detail()->set_code(static_cast<int>(applied.code()));
      answer.mutable_error_detail()->set_message(std::string(applied.message()));
      std::string error =
          strCat("version ", in_.version(), " refused (NACK), keeping ",
                 answer.version_info().empty() ? std::string("the config file's routes")
                                               : answer.version_info(),
                 ": ", std::string(applied.message()));
      log::warn("control plane: route table ", error);
      owner_.setStatus(true, std::move(error));
    }
    enqueue(std::move(answer));
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    const v1::RouteRequest* next = nullptr;
    {
      std::lock_guard lock(mu_);
      queue_.pop_front();
      writing_ = false;
      if (ok && !queue_.empty()) {
        writing_ = true;
        next = &queue_.front();
      }
    }
    if (next != nullptr) StartWrite(next);  // never under mu_: a reaction may run inline
  }

  // Under the owner's lock, which the subscription thread holds while it
  // checks done(): once it sees done it may delete this call, and nothing
  // here touches the call after the lock is released.
  void OnDone(const grpc::Status& status) override {
    std::lock_guard owner_lock(owner_.mu_);
    {
      std::lock_guard lock(mu_);
      done_ = true;
      status_ = status;
    }
    owner_.cv_.notify_all();
  }

 private:
  void enqueue(v1::RouteRequest request) {
    const v1::RouteRequest* next = nullptr;
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(request));  // deque: front() stays valid
      if (!writing_) {
        writing_ = true;
        next = &queue_.front();
      }
    }
    if (next != nullptr) StartWrite(next);
  }

  RouteSubscriber& owner_;
  grpc::ClientContext context_;
  v1::RouteSnapshot in_;
  mutable std::mutex mu_;
  std::deque<v1::RouteRequest> queue_;
  bool writing_ = false;
  bool done_ = false;
  bool got_snapshot_ = false;
  grpc::Status status_;
};

RouteSubscriber::RouteSubscriber(SubscriberOptions options, Apply apply, Version version,
                                 OnConnected on_connected, Backoff::Uniform uniform)
    : options_(std::move(options)),
      apply_(std::move(apply)),
      version_(std::move(version)),
      on_connected_(std::move(on_connected)),
      backoff_(options_.backoff_initial, options_.backoff_max, std::move(uniform)) {}

RouteSubscriber::~RouteSubscriber() { stop(); }

absl::Status RouteSubscriber::start() {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options_.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options_.tls->ca_file.empty()) {
      absl::StatusOr<std::string> ca = readPem(options_.tls->ca_file);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = std::move(*ca);
    }
    if (!options_.tls->cert_file.empty()) {
      absl::StatusOr<std::string> cert = readPem(options_.tls->cert_file);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = readPem(options_.tls->key_file);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = std::move(*cert);
      ssl.pem_private_key = std::move(*key);
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  // gRPC's own reconnect backoff (1 s to 120 s by default) would hold a call
  // back long after the control plane is up again: align it with ours.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.backoff_initial.count()));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.backoff_initial.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.backoff_max.count()));
  // A control plane that vanished without closing the connection (SIGSTOP, a
  // dropped route) is noticed by HTTP/2 keepalive within keepalive_time +
  // keepalive_timeout (R33). The stream carries no data while nothing
  // changes, so pings must go without data and without a limit on their
  // number; llmgate-control accepts them down to its min_client_ping_interval
  // (a server that answers GOAWAY too_many_pings makes gRPC double the
  // interval by itself).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options_.keepalive_time.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(options_.keepalive_timeout.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  channel_ = grpc::CreateCustomChannel(options_.address, credentials, args);
  stub_ = v1::RouteDiscovery::NewStub(channel_);
  thread_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void RouteSubscriber::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SubscriberStatus RouteSubscriber::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void RouteSubscriber::setStatus(bool connected, std::optional<std::string> error) {
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    changed = status_.connected != connected;
    status_.connected = connected;
    if (error) status_.last_error = std::move(*error);
  }
  if (changed && on_connected_) on_connected_(connected);
}

void RouteSubscriber::run() {
  while (true) {
    v1::RouteRequest first;
    first.mutable_node()->set_id(options_.node_id);
    first.mutable_node()->set_build_version(options_.build_version);
    first.set_version_info(version_());
    const auto started = time::steadyNow();
    auto call = std::make_unique<Call>(*this, std::move(first));
    {
      std::unique_lock lock(mu_);
      while (!stop_ && !call->done()) {
        cv_.wait_for(lock, std::chrono::milliseconds(100));
        if (!status_.connected && !call->done() && time::steadyNow() - started > kAcceptedAfter &&
            channel_->GetState(false) == GRPC_CHANNEL_READY) {
          lock.unlock();
          setStatus(true, std::nullopt);
          lock.lock();
        }
      }
      if (stop_) {
        lock.unlock();
        call->cancel();
        lock.lock();
        cv_.wait(lock, [&] { return call->done(); });
        break;
      }
    }
    const grpc::Status status = call->finalStatus();
    // Only a stream that stayed up resets the backoff: one that delivers a
    // snapshot and breaks at once, again and again (flapping, R30), still
    // backs off.
    const bool worked = time::steadyNow() - started > kHealthyStream;
    call.reset();
    std::string error = strCat("StreamRoutes ended: ", static_cast<int>(status.error_code()), " ",
                               status.error_message());
    if (worked) backoff_.reset();
    const auto delay = backoff_.next();
    log::warn("control plane ", options_.address, ": ", error, "; reconnecting in ", delay.count(),
              " ms");
    setStatus(false, std::move(error));
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, delay, [this] { return stop_; })) break;
  }
  setStatus(false, std::nullopt);
}

std::string nodeId(const std::string& node_id_env) {
  if (!node_id_env.empty()) {
    if (const char* value = std::getenv(node_id_env.c_str()); value != nullptr && *value != 0) {
      return value;
    }
  }
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) == 0 && host[0] != 0) return host.data();
  return "llmgate";
}

}  // namespace llmgate::proxy::control

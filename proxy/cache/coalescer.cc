#include "proxy/cache/coalescer.h"

#include <utility>
#include <vector>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"

namespace llmgate::proxy::cache {

namespace asio = boost::asio;

namespace {

// A waiting follower: its timer runs on the follower's own executor; the
// leader wakes it by posting a cancel() there.
struct Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
};

}  // namespace

struct Coalescer::Flight {
  std::string key;
  // Guarded by the Coalescer's mutex.
  bool done = false;
  std::shared_ptr<const CachedResponse> response;
  std::vector<std::shared_ptr<Waiter>> waiters;
};

Coalescer::Coalescer() = default;
Coalescer::~Coalescer() = default;

std::variant<Coalescer::Leader, Coalescer::Follower> Coalescer::join(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = flights_.find(std::string(key));
  if (it != flights_.end()) {
    ++followers_;
    return Follower(this, it->second);
  }
  auto flight = std::make_shared<Flight>();
  flight->key = std::string(key);
  flights_.emplace(flight->key, flight);
  ++leaders_;
  return Leader(this, std::move(flight));
}

CoalescerStats Coalescer::stats() const {
  std::lock_guard lock(mu_);
  return CoalescerStats{.leaders = leaders_,
                        .followers = followers_,
                        .shared = shared_,
                        .leader_failed = leader_failed_,
                        .deadlines = deadlines_,
                        .in_flight = flights_.size()};
}

// --- Leader ------------------------------------------------------------------

Coalescer::Leader::Leader(Coalescer* owner, std::shared_ptr<Flight> flight)
    : owner_(owner), flight_(std::move(flight)) {}

Coalescer::Leader::Leader(Leader&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), flight_(std::move(other.flight_)) {}

Coalescer::Leader& Coalescer::Leader::operator=(Leader&& other) noexcept {
  if (this != &other) {
    fail();
    owner_ = std::exchange(other.owner_, nullptr);
    flight_ = std::move(other.flight_);
  }
  return *this;
}

Coalescer::Leader::~Leader() { fail(); }

void Coalescer::Leader::complete(std::shared_ptr<const CachedResponse> response) {
  finish(std::move(response));
}

void Coalescer::Leader::fail() { finish(nullptr); }

void Coalescer::Leader::finish(std::shared_ptr<const CachedResponse> response) {
  if (owner_ == nullptr || flight_ == nullptr) return;
  std::vector<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard lock(owner_->mu_);
    flight_->done = true;
    flight_->response = std::move(response);
    waiters.swap(flight_->waiters);
    auto it = owner_->flights_.find(flight_->key);
    if (it != owner_->flights_.end() && it->second == flight_) owner_->flights_.erase(it);
  }
  for (auto& waiter : waiters) {
    auto& timer = waiter->timer;
    asio::post(timer.get_executor(), [w = std::move(waiter)] { w->timer.cancel(); });
  }
  owner_ = nullptr;
  flight_.reset();
}

// --- Follower ----------------------------------------------------------------

Coalescer::Follower::Follower(Coalescer* owner, std::shared_ptr<Flight> flight)
    : owner_(owner), flight_(std::move(flight)) {}

asio::awaitable<FollowResult> Coalescer::Follower::wait(time::SteadyTime deadline) {
  auto ex = co_await asio::this_coro::executor;
  auto waiter = std::make_shared<Waiter>(ex);
  bool already_done = false;
  {
    std::lock_guard lock(owner_->mu_);
    already_done = flight_->done;
    if (!already_done) flight_->waiters.push_back(waiter);
  }
  if (!already_done) {
    // The leader's wake-up is posted to this executor, so it cannot run before
    // this coroutine has started waiting (it runs on this very thread).
    waiter->timer.expires_at(deadline);
    [[maybe_unused]] auto [ec] =
        co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  FollowResult result;
  std::lock_guard lock(owner_->mu_);
  if (!flight_->done) {
    ++owner_->deadlines_;
    result.outcome = FollowResult::Outcome::kDeadline;
  } else if (flight_->response != nullptr) {
    ++owner_->shared_;
    result.outcome = FollowResult::Outcome::kShared;
    result.response = flight_->response;
  } else {
    ++owner_->leader_failed_;
    result.outcome = FollowResult::Outcome::kLeaderFailed;
  }
  co_return result;
}

}  // namespace llmgate::proxy::cache

// Request coalescing (R44): identical in-flight cacheable requests (same
// CacheKey, so same tenant) share one upstream call.
//
// One Coalescer is shared by all workers (a mutex around a map of flights):
// the herd of identical requests is spread over every worker's connections,
// and per-worker coalescing would still make one upstream call per worker.
// The lock is held only to find/insert/erase a flight and to register a
// waiter, never across an await or an upstream call.
//
// Usage:
//   auto joined = coalescer.join(key.value);
//   if (auto* leader = std::get_if<Coalescer::Leader>(&joined)) {
//     ... call upstream; store a storable answer in the cache FIRST, then
//     leader->complete(response);   // or leader->fail(); (also what its destructor does)
//   } else {
//     auto& follower = std::get<Coalescer::Follower>(joined);
//     FollowResult r = co_await follower.wait(deadline);
//     kShared: answer r.response (x-llmgate-cache: coalesced)
//     kLeaderFailed: proceed on your own, without joining again
//     kDeadline: this request's own deadline passed: answer its timeout error
//   }
// A waiter is woken on its own executor; it never blocks a thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "boost/asio/awaitable.hpp"
#include "common/time/clock.h"
#include "proxy/cache/cache.h"

namespace llmgate::proxy::cache {

struct FollowResult {
  enum class Outcome { kShared, kLeaderFailed, kDeadline };
  Outcome outcome = Outcome::kLeaderFailed;
  std::shared_ptr<const CachedResponse> response;  // set for kShared
};

struct CoalescerStats {
  std::uint64_t leaders = 0;
  std::uint64_t followers = 0;
  std::uint64_t shared = 0;         // followers answered with the leader's response
  std::uint64_t leader_failed = 0;  // followers released by a failed leader
  std::uint64_t deadlines = 0;      // followers that gave up at their own deadline
  std::uint64_t in_flight = 0;      // flights now
};

class Coalescer {
 public:
  struct Flight;

  // The one request that calls upstream for a key. Move-only; exactly one of
  // complete()/fail() takes effect, and destroying it without either fails the
  // flight (so an exception or a cancelled coroutine cannot strand waiters).
  class Leader {
   public:
    Leader(Leader&&) noexcept;
    Leader& operator=(Leader&&) noexcept;
    ~Leader();
    // Shares `response` with every waiter; nullptr is the same as fail().
    void complete(std::shared_ptr<const CachedResponse> response);
    void fail();

   private:
    friend class Coalescer;
    Leader(Coalescer* owner, std::shared_ptr<Flight> flight);
    void finish(std::shared_ptr<const CachedResponse> response);
    Coalescer* owner_ = nullptr;
    std::shared_ptr<Flight> flight_;
  };

  class Follower {
   public:
    // Completes when the leader finishes or at `deadline`, whichever is first,
    // on the executor of the calling coroutine.
    boost::asio::awaitable<FollowResult> wait(time::SteadyTime deadline);

   private:
    friend class Coalescer;
    Follower(Coalescer* owner, std::shared_ptr<Flight> flight);
    Coalescer* owner_ = nullptr;
    std::shared_ptr<Flight> flight_;
  };

  Coalescer();
  ~Coalescer();
  Coalescer(const Coalescer&) = delete;
  Coalescer& operator=(const Coalescer&) = delete;

  // The first caller for a key becomes its Leader; callers while the leader
  // runs become Followers. Once the leader finishes the key is free again.
  std::variant<Leader, Follower> join(std::string_view key);

  CoalescerStats stats() const;

 private:
  void release(const std::shared_ptr<Flight>& flight);

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
  std::uint64_t leaders_ = 0, followers_ = 0, shared_ = 0, leader_failed_ = 0, deadlines_ = 0;
};

}  // namespace llmgate::proxy::cache

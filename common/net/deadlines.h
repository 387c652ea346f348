// Deadlines for many operations of one io_context on ONE timer (nginx's and
// Envoy's approach), instead of an Asio timer per operation as
// beast::tcp_stream's expiry arms: a schedule, a cancel and a posted
// completion for every read. Arming and disarming here are list splices.
//
// Each lane keeps its entries sorted by deadline. Operations of one kind
// (client idle waits, upstream exchanges) get deadlines "now + a fixed
// duration", so an entry is nearly always appended at the tail. The one
// timer waits for the earliest head; an entry disarmed before its deadline
// costs the timer nothing (it finds later heads when it fires and re-waits).
//
// An io_context service (asio::use_service<Deadlines>(ioc)): it outlives the
// coroutines the io_context destroys at shutdown, whose entries unlink
// themselves. Single-threaded: touched only from the io_context's thread.
#pragma once

#include <array>
#include <cstddef>

#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "common/time/clock.h"

namespace llmgate::net {

class Deadlines : public boost::asio::io_context::service {
 public:
  enum class Lane : std::size_t { kClientIdle = 0, kUpstreamExchange = 1 };
  static constexpr std::size_t kLanes = 2;

  // One armed deadline; disarms itself when destroyed. Not movable: the
  // lane links to it.
  class Entry {
   public:
    // Called on the io_context's thread once the deadline passed (the entry
    // is already disarmed then, and expired() is true).
    using Expire = void (*)(void* context);

    Entry() = default;
    ~Entry() { disarm(); }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

    bool armed() const { return owner_ != nullptr; }
    bool expired() const { return expired_; }
    void disarm();

   private:
    friend class Deadlines;
    Deadlines* owner_ = nullptr;
    Lane lane_ = Lane::kClientIdle;
    Entry* prev_ = nullptr;
    Entry* next_ = nullptr;
    time::SteadyTime deadline_{};
    Expire expire_ = nullptr;
    void* context_ = nullptr;
    bool expired_ = false;
  };

  static boost::asio::io_context::id id;
  explicit Deadlines(boost::asio::io_context& ioc);

  // The service of `ioc` (created on first use).
  static Deadlines& of(boost::asio::io_context& ioc) {
    return boost::asio::use_service<Deadlines>(ioc);
  }

  // Arms (or re-arms) `entry`: `expire(context)` runs once `deadline` has
  // passed, unless the entry is disarmed first. Clears expired().
  void arm(Entry& entry, Lane lane, time::SteadyTime deadline, Entry::Expire expire, void* context);

  std::size_t size(Lane lane) const { return lanes_[static_cast<std::size_t>(lane)].size; }

 private:
  struct List {
    Entry* head = nullptr;
    Entry* tail = nullptr;
    std::size_t size = 0;
  };

  void shutdown() override;
  void unlink(Entry& entry);
  void waitFor(time::SteadyTime deadline);
  void onTimer();

  std::array<List, kLanes> lanes_;
  boost::asio::steady_timer timer_;
  time::SteadyTime timer_at_ = time::SteadyTime::max();  // max: not waiting
  bool stopped_ = false;
};

}  // namespace llmgate::net

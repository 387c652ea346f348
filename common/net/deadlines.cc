#include "common/net/deadlines.h"

#include "boost/asio/error.hpp"

namespace llmgate::net {

boost::asio::io_context::id Deadlines::id;

Deadlines::Deadlines(boost::asio::io_context& ioc)
    : boost::asio::io_context::service(ioc), timer_(ioc) {}

void Deadlines::Entry::disarm() {
  if (owner_ != nullptr) owner_->unlink(*this);
}

void Deadlines::unlink(Entry& entry) {
  List& list = lanes_[static_cast<std::size_t>(entry.lane_)];
  (entry.prev_ != nullptr ? entry.prev_->next_ : list.head) = entry.next_;
  (entry.next_ != nullptr ? entry.next_->prev_ : list.tail) = entry.prev_;
  entry.prev_ = entry.next_ = nullptr;
  entry.owner_ = nullptr;
  --list.size;
}

void Deadlines::arm(Entry& entry, Lane lane, time::SteadyTime deadline, Entry::Expire expire,
                    void* context) {
  entry.disarm();
  entry.lane_ = lane;
  entry.deadline_ = deadline;
  entry.expire_ = expire;
  entry.context_ = context;
  entry.expired_ = false;
  entry.owner_ = this;
  List& list = lanes_[static_cast<std::size_t>(lane)];
  // Sorted insert from the tail: O(1) for the usual "now + fixed duration".
  Entry* after = list.tail;
  while (after != nullptr && deadline < after->deadline_) after = after->prev_;
  entry.prev_ = after;
  entry.next_ = after != nullptr ? after->next_ : list.head;
  (entry.next_ != nullptr ? entry.next_->prev_ : list.tail) = &entry;
  (after != nullptr ? after->next_ : list.head) = &entry;
  ++list.size;
  if (deadline < timer_at_) waitFor(deadline);
}

void Deadlines::waitFor(time::SteadyTime deadline) {
  if (stopped_) return;
  timer_at_ = deadline;
  timer_.expires_at(deadline);  // cancels an earlier wait (ignored below)
  timer_.async_wait([this](const boost::system::error_code& ec) {
    // A wait replaced by a nearer deadline, or the service shutting down:
    // `this` is not touched.
    if (ec == boost::asio::error::operation_aborted) return;
    onTimer();
  });
}

void Deadlines::onTimer() {
  timer_at_ = time::SteadyTime::max();
  const time::SteadyTime now = time::steadyNow();
  time::SteadyTime next = time::SteadyTime::max();
  for (List& list : lanes_) {
    while (list.head != nullptr && list.head->deadline_ <= now) {
      Entry& entry = *list.head;
      unlink(entry);
      entry.expired_ = true;
      // May arm other entries (or this one again): the lists stay valid.
      entry.expire_(entry.context_);
    }
    if (list.head != nullptr && list.head->deadline_ < next) next = list.head->deadline_;
  }
  if (next < timer_at_) waitFor(next);
}

void Deadlines::shutdown() {
  stopped_ = true;
  timer_at_ = time::SteadyTime::min();  // arm() never waits again
  timer_.cancel();
}

}  // namespace llmgate::net

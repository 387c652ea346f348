// The client connections of one worker, so that a drain can close the idle
// keep-alive ones at once (R65). Touched only from the worker's thread: no
// locks. A session registers itself for its whole life (Entry is RAII).
#pragma once

#include <cstddef>
#include <unordered_set>

#include "boost/beast/core/tcp_stream.hpp"

namespace llmgate::proxy::server {

class SessionRegistry {
 public:
  class Entry {
   public:
    Entry(SessionRegistry& registry, boost::beast::tcp_stream& stream);
    ~Entry();
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

    // True while the session waits for the first byte of its next request.
    void setIdle(bool idle) { idle_ = idle; }

   private:
    friend class SessionRegistry;
    SessionRegistry& registry_;
    boost::beast::tcp_stream& stream_;
    bool idle_ = false;
  };

  // Cancels the pending read of every idle session: each ends and closes its
  // connection. Busy sessions are left alone (their response carries
  // `Connection: close`). Returns how many were closed.
  std::size_t closeIdle();
  std::size_t size() const { return entries_.size(); }

 private:
  std::unordered_set<Entry*> entries_;
};

}  // namespace llmgate::proxy::server

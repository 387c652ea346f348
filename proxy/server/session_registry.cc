#include "proxy/server/session_registry.h"

namespace llmgate::proxy::server {

SessionRegistry::Entry::Entry(SessionRegistry& registry, boost::beast::tcp_stream& stream)
    : registry_(registry), stream_(stream) {
  registry_.entries_.insert(this);
}

SessionRegistry::Entry::~Entry() { registry_.entries_.erase(this); }

std::size_t SessionRegistry::closeIdle() {
  std::size_t closed = 0;
  for (Entry* entry : entries_) {
    if (!entry->idle_) continue;
    // The read completes with operation_aborted; the session then closes.
    entry->stream_.cancel();
    entry->idle_ = false;
    ++closed;
  }
  return closed;
}

}  // namespace llmgate::proxy::server

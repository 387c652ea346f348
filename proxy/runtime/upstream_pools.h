// A worker's connection pools, one per provider. Lives on one worker thread.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "boost/asio/awaitable.hpp"
#include "boost/asio/steady_timer.hpp"
#include "proxy/upstream/upstream_pool.h"

namespace llmgate::proxy::runtime {

class UpstreamPools {
 public:
  // `divisor` spreads providers[].max_connections over the workers.
  UpstreamPools(boost::asio::io_context& ioc, boost::asio::ssl::context& tls, unsigned divisor)
      : ioc_(ioc), tls_(tls), divisor_(divisor == 0 ? 1 : divisor) {}

  // The pool for this provider's current settings; a provider whose URL or
  // limits changed on reload gets a new pool and the old one is shut down.
  std::shared_ptr<upstream::UpstreamPool> poolFor(const config::ProviderConfig& provider);

  void shutdown();
  // The drain deadline (R65): every exchange still running, on current pools
  // and on pools replaced by a reload, fails at once with kShuttingDown, and
  // so does every later one.
  void abort();
  bool aborted() const { return aborted_; }

  // A retry backoff that abort() ends early. False when it was cut short.
  boost::asio::awaitable<bool> backoff(config::Duration wait);

 private:
  // What a pool was built from: a provider whose settings differ gets a new
  // pool. Compared field by field (no string built per request).
  struct Fingerprint {
    std::string base_url;
    std::uint32_t max_connections = 0;
    bool allow_private_network = false;
    config::Duration connect{0};
    bool matches(const config::ProviderConfig& provider) const {
      return max_connections == provider.max_connections &&
             allow_private_network == provider.allow_private_network &&
             connect == provider.timeouts.connect && base_url == provider.base_url;
    }
  };
  struct Entry {
    Fingerprint fingerprint;
    std::shared_ptr<upstream::UpstreamPool> pool;
  };
  boost::asio::io_context& ioc_;
  boost::asio::ssl::context& tls_;
  unsigned divisor_;
  std::unordered_map<std::string, Entry> pools_;
  std::vector<std::weak_ptr<upstream::UpstreamPool>> retired_;  // replaced, maybe still in use
  std::unordered_set<boost::asio::steady_timer*> backoffs_;     // cancelled by abort()
  bool aborted_ = false;
};

}  // namespace llmgate::proxy::runtime

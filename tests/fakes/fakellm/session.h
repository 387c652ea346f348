// One client connection: reads requests one after another (keep-alive) and
// answers each as its behaviour says.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "tests/fakes/fakellm/behaviour.h"
#include "tests/fakes/fakellm/dialect.h"
#include "tests/fakes/fakellm/options.h"
#include "tests/fakes/fakellm/prompt_cache.h"
#include "tests/fakes/fakellm/script_queue.h"
#include "tests/fakes/fakellm/stats.h"
#include "tests/fakes/fakellm/timing.h"

namespace llmgate::fakellm {

// State every worker thread shares (each member guards itself).
struct SharedState {
  explicit SharedState(Options opts)
      : options(std::move(opts)),
        defaults(options.defaults()),
        cold_start(options.cold_start_ms, options.idle_ms) {}

  const Options options;
  const Behaviour defaults;
  Stats stats;
  ScriptQueue script;
  PromptCache prompt_cache;
  ColdStart cold_start;
  std::atomic<int64_t> chat_in_flight{0};
};

// What one worker thread owns; sessions of that thread borrow it.
struct WorkerContext {
  SharedState& shared;
  Rng rng;
};

boost::asio::awaitable<void> runSession(boost::asio::ip::tcp::socket socket, WorkerContext& worker);

}  // namespace llmgate::fakellm

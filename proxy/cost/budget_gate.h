// Admission and settlement of a request against its tenant's budget, across
// every sidecar of the fleet when Redis is configured (docs/ROUTING.md,
// "Budgets"; R46).
//
//  - Local (no cache.redis): the process's BudgetTracker reserves the
//    request's estimated cost in both windows (day, minute) or refuses it.
//  - Shared (cache.redis): one Lua script on Redis adds the estimate to the
//    tenant's day and minute keys (INCRBYFLOAT, EXPIRE; atomic on the
//    server), compares with the limits and takes it back when either is
//    overrun. The totals it returns update the local tracker (for
//    `budget: low` and the metrics).
//  - Redis unreachable, timed out or answering errors: a tenant WITH a budget
//    is refused (kUnavailable: fail closed), so the fleet can never spend
//    past the limit because counters could not be read. Tenants without a
//    budget never touch Redis.
//
// settleBudget() replaces the reservation by the actual cost once the answer
// is in (0 when nothing was served). All I/O is asynchronous hiredis on the
// worker's own connection.
#pragma once

#include <string>

#include "boost/asio/awaitable.hpp"
#include "proxy/cache/redis_cache.h"
#include "proxy/cost/budget.h"

namespace llmgate::proxy::cost {

struct BudgetAdmission {
  enum class Verdict { kAllowed, kExceeded, kUnavailable };
  Verdict verdict = Verdict::kAllowed;
  BudgetWindow window = BudgetWindow::kDay;  // kExceeded: the window that refused
  double reserved_usd = 0;                   // to be settled
  bool shared = false;                       // reserved in Redis
  bool budgeted = false;                     // the tenant has a limit
};

// `redis` may be null (local counting).
boost::asio::awaitable<BudgetAdmission> admitBudget(BudgetTracker& tracker,
                                                    cache::RedisCache* redis, std::string tenant,
                                                    double estimated_usd);

// Replaces `admission.reserved_usd` by `actual_usd`. When Redis cannot be
// reached the shared counter keeps the reservation (an overcount when the
// answer cost less; logged).
boost::asio::awaitable<void> settleBudget(BudgetTracker& tracker, cache::RedisCache* redis,
                                          std::string tenant, BudgetAdmission admission,
                                          double actual_usd);

// The Redis keys of `tenant`'s windows (without the connection's prefix),
// e.g. "budget:acme:d:20500" and "budget:acme:m:29520000".
std::string budgetKey(std::string_view tenant, BudgetWindow window, std::int64_t number);

}  // namespace llmgate::proxy::cost

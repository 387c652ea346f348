#include "proxy/cost/budget_gate.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "common/log/log.h"
#include "common/text/str_cat.h"

namespace llmgate::proxy::cost {
namespace {

namespace asio = boost::asio;

// KEYS: day key, minute key. ARGV: amount, day limit (-1: none), minute
// limit (-1: none), day TTL s, minute TTL s, "reserve"|"settle", -amount.
// Returns "<ok|day|minute> <day total> <minute total>".
constexpr std::string_view kScript = R"lua(
local d = tonumber(redis.call('INCRBYFLOAT', KEYS[1], ARGV[1]))
redis.call('EXPIRE', KEYS[1], ARGV[4])
local m = tonumber(redis.call('INCRBYFLOAT', KEYS[2], ARGV[1]))
redis.call('EXPIRE', KEYS[2], ARGV[5])
local verdict = 'ok'
if ARGV[6] == 'reserve' then
  local dl = tonumber(ARGV[2])
  local ml = tonumber(ARGV[3])
  if dl >= 0 and d > dl then verdict = 'day'
  elseif ml >= 0 and m > ml then verdict = 'minute' end
  if verdict ~= 'ok' then
    d = tonumber(redis.call('INCRBYFLOAT', KEYS[1], ARGV[7]))
    m = tonumber(redis.call('INCRBYFLOAT', KEYS[2], ARGV[7]))
  end
end
return verdict .. ' ' .. string.format('%.9f', d) .. ' ' .. string.format('%.9f', m)
)lua";

std::string usd(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9f", v);
  return buf;
}

struct ScriptReply {
  std::string verdict;
  double day = 0;
  double minute = 0;
};

std::optional<ScriptReply> parseReply(const std::string& reply) {
  const std::size_t a = reply.find(' ');
  const std::size_t b = a == std::string::npos ? a : reply.find(' ', a + 1);
  if (b == std::string::npos) return std::nullopt;
  ScriptReply out;
  out.verdict = reply.substr(0, a);
  out.day = std::strtod(reply.c_str() + a + 1, nullptr);
  out.minute = std::strtod(reply.c_str() + b + 1, nullptr);
  return out;
}

asio::awaitable<std::optional<ScriptReply>> runScript(BudgetTracker& tracker,
                                                      cache::RedisCache& redis,
                                                      const std::string& tenant, double amount,
                                                      bool reserve) {
  const config::Budget* budget = tracker.budgetOf(tenant);
  std::vector<std::string> keys = {
      budgetKey(tenant, BudgetWindow::kDay, tracker.windowNumber(BudgetWindow::kDay)),
      budgetKey(tenant, BudgetWindow::kMinute, tracker.windowNumber(BudgetWindow::kMinute))};
  std::vector<std::string> args = {
      usd(amount),
      budget && budget->usd_per_day ? usd(*budget->usd_per_day) : "-1",
      budget && budget->usd_per_minute ? usd(*budget->usd_per_minute) : "-1",
      "90000",  // a day and an hour
      "120",
      reserve ? "reserve" : "settle",
      usd(-amount)};
  std::optional<std::string> reply = co_await redis.eval(kScript, std::move(keys), std::move(args));
  if (!reply) co_return std::nullopt;
  std::optional<ScriptReply> parsed = parseReply(*reply);
  if (parsed) tracker.setSpent(tenant, parsed->day, parsed->minute);
  co_return parsed;
}

}  // namespace

std::string budgetKey(std::string_view tenant, BudgetWindow window, std::int64_t number) {
  return strCat("budget:", tenant, window == BudgetWindow::kDay ? ":d:" : ":m:", number);
}

asio::awaitable<BudgetAdmission> admitBudget(BudgetTracker& tracker, cache::RedisCache* redis,
                                             std::string tenant, double estimated_usd) {
  BudgetAdmission admission;
  if (!tracker.budgeted(tenant)) co_return admission;
  admission.budgeted = true;
  if (redis == nullptr) {
    if (std::optional<BudgetWindow> refused = tracker.tryReserve(tenant, estimated_usd)) {
      admission.verdict = BudgetAdmission::Verdict::kExceeded;
      admission.window = *refused;
      co_return admission;
    }
    admission.reserved_usd = estimated_usd;
    co_return admission;
  }
  std::optional<ScriptReply> reply =
      co_await runScript(tracker, *redis, tenant, estimated_usd, true);
  if (!reply) {
    admission.verdict = BudgetAdmission::Verdict::kUnavailable;
    co_return admission;
  }
  if (reply->verdict == "ok") {
    admission.reserved_usd = estimated_usd;
    admission.shared = true;
  } else {
    admission.verdict = BudgetAdmission::Verdict::kExceeded;
    admission.window = reply->verdict == "minute" ? BudgetWindow::kMinute : BudgetWindow::kDay;
  }
  co_return admission;
}

asio::awaitable<void> settleBudget(BudgetTracker& tracker, cache::RedisCache* redis,
                                   std::string tenant, BudgetAdmission admission,
                                   double actual_usd) {
  if (!admission.budgeted || admission.verdict != BudgetAdmission::Verdict::kAllowed) co_return;
  if (!(actual_usd >= 0)) actual_usd = 0;
  if (!admission.shared || redis == nullptr) {
    tracker.charge(tenant, actual_usd);
    tracker.refund(tenant, admission.reserved_usd);
    co_return;
  }
  const double delta = actual_usd - admission.reserved_usd;
  if (delta == 0) co_return;
  std::optional<ScriptReply> reply = co_await runScript(tracker, *redis, tenant, delta, false);
  if (!reply) {
    log::warn("budget: could not settle ", usd(delta), " USD for tenant ", tenant,
              " in Redis; its shared counter keeps the reservation of ",
              usd(admission.reserved_usd), " USD");
  }
}

}  // namespace llmgate::proxy::cost

#include "proxy/control/telemetry_collector.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <tuple>
#include <utility>

namespace llmgate::proxy::control {

namespace {

using telemetry::AttemptOutcome;

std::atomic<std::uint64_t> next_collector_id{1};

// The calling thread's shard of the collector it used last (one entry: a
// process has one collector; tests that make several fall back to a lookup).
struct ThreadCache {
  std::uint64_t owner = 0;
  void* shard = nullptr;
};
thread_local ThreadCache thread_cache;

void appendKey(std::string& key, std::string_view model, std::string_view provider) {
  key.assign(model);
  key.push_back('\0');
  key.append(provider);
}

bool isCacheAnswer(std::string_view cache) {
  return cache == "hit-l1" || cache == "hit-l2" || cache == "coalesced";
}

}  // namespace

void TargetDelta::merge(const TargetDelta& o) {
  outcomes.add(o.outcomes);
  latency.merge(o.latency);
  ttft.merge(o.ttft);
  prompt_tokens += o.prompt_tokens;
  cached_prompt_tokens += o.cached_prompt_tokens;
  completion_tokens += o.completion_tokens;
  cost_usd += o.cost_usd;
}

struct TelemetryCollector::Shard {
  std::thread::id owner;
  std::mutex mu;  // this thread and drain() only
  std::string scratch;
  // key: model '\0' provider
  absl::flat_hash_map<std::string, TargetDelta> targets;
  // Kept across drains: cuts whose follow-up attempt event is still to come,
  // and each model's provider (onTruncation names the model only).
  absl::flat_hash_map<std::string, std::uint64_t> pending_cuts;
  absl::flat_hash_map<std::string, std::string> provider_of;
  absl::flat_hash_map<std::string, std::uint64_t> pending_truncations;

  TargetDelta& target(std::string_view model, std::string_view provider) {
    appendKey(scratch, model, provider);
    auto it = targets.find(scratch);
    if (it == targets.end()) {
      TargetDelta fresh;
      fresh.model = std::string(model);
      fresh.provider = std::string(provider);
      it = targets.emplace(scratch, std::move(fresh)).first;
    }
    return it->second;
  }
};

TelemetryCollector::TelemetryCollector() : id_(next_collector_id.fetch_add(1)) {}

TelemetryCollector::~TelemetryCollector() {
  if (thread_cache.owner == id_) thread_cache = {};
}

TelemetryCollector::Shard& TelemetryCollector::shard() {
  if (thread_cache.owner == id_) return *static_cast<Shard*>(thread_cache.shard);
  // First event of this thread, or a thread alternating collectors (tests):
  // its shard is found or registered under the lock.
  std::lock_guard lock(registry_mu_);
  const std::thread::id me = std::this_thread::get_id();
  for (auto& s : shards_) {
    if (s->owner == me) {
      thread_cache = {id_, s.get()};
      return *s;
    }
  }
  shards_.push_back(std::make_unique<Shard>());
  shards_.back()->owner = me;
  thread_cache = {id_, shards_.back().get()};
  return *shards_.back();
}

void TelemetryCollector::onUpstreamAttempt(std::string_view model, std::string_view provider,
                                           AttemptOutcome outcome) {
  Shard& s = shard();
  std::lock_guard lock(s.mu);
  TargetDelta& t = s.target(model, provider);
  if (auto it = s.provider_of.find(absl::string_view(model.data(), model.size()));
      it == s.provider_of.end() || it->second != provider) {
    s.provider_of[std::string(model)] = std::string(provider);
    if (auto pending = s.pending_truncations.find(absl::string_view(model.data(), model.size()));
        pending != s.pending_truncations.end()) {
      t.outcomes.truncated += pending->second;
      s.pending_truncations.erase(pending);
    }
  }
  if (outcome != AttemptOutcome::kSuccess) {
    // s.scratch still holds this target's key.
    if (auto cut = s.pending_cuts.find(s.scratch); cut != s.pending_cuts.end()) {
      if (--cut->second == 0) s.pending_cuts.erase(cut);
      return;  // already counted as stream_cut
    }
  }
  OutcomeCounts& c = t.outcomes;
  switch (outcome) {
    case AttemptOutcome::kSuccess:
      ++c.success;
      break;
    case AttemptOutcome::kConnectError:
      ++c.connect_error;
      break;
    case AttemptOutcome::kTimeout:
      ++c.timeout;
      break;
    case AttemptOutcome::kRateLimited:
    case AttemptOutcome::kQuota:  // the provider refused for quota: its side, like a 429
      ++c.rate_limited;
      break;
    case AttemptOutcome::kServerError:
      ++c.server_error;
      break;
    case AttemptOutcome::kClientError:
      ++c.client_error;
      break;
  }
}

void TelemetryCollector::onStreamCut(std::string_view model, std::string_view provider) {
  Shard& s = shard();
  std::lock_guard lock(s.mu);
  ++s.target(model, provider).outcomes.stream_cut;
  ++s.pending_cuts[s.scratch];
}

void TelemetryCollector::onTruncation(std::string_view model, std::string_view action) {
  Shard& s = shard();
  std::lock_guard lock(s.mu);
  auto it = s.provider_of.find(absl::string_view(model.data(), model.size()));
  if (it == s.provider_of.end()) {
    // A stream's truncation is reported before its attempt: the model's
    // first attempt on this thread will take it.
    ++s.pending_truncations[std::string(model)];
    return;
  }
  const std::string provider = it->second;
  ++s.target(model, provider).outcomes.truncated;
}

void TelemetryCollector::onAttemptTiming(std::string_view model, std::string_view provider,
                                         double duration_s, std::optional<double> ttft_s) {
  Shard& s = shard();
  std::lock_guard lock(s.mu);
  TargetDelta& t = s.target(model, provider);
  t.latency.add(duration_s);
  if (ttft_s) t.ttft.add(*ttft_s);
}

void TelemetryCollector::onRequest(const telemetry::RequestRecord& r) {
  if (r.status < 200 || r.status >= 300) return;
  if (r.model == "none" || r.model.empty() || r.provider == "none" || r.provider.empty()) return;
  if (isCacheAnswer(r.cache)) return;  // not an upstream attempt
  Shard& s = shard();
  std::lock_guard lock(s.mu);
  TargetDelta& t = s.target(r.model, r.provider);
  t.prompt_tokens += r.prompt_tokens;
  t.cached_prompt_tokens += r.cached_prompt_tokens;
  t.completion_tokens += r.completion_tokens;
  t.cost_usd += r.cost_usd;
}

std::vector<TargetDelta> TelemetryCollector::drain() {
  absl::flat_hash_map<std::string, TargetDelta> merged;
  {
    std::lock_guard registry(registry_mu_);
    for (auto& shard : shards_) {
      absl::flat_hash_map<std::string, TargetDelta> taken;
      {
        std::lock_guard lock(shard->mu);
        taken.swap(shard->targets);
      }
      for (auto& [key, delta] : taken) {
        auto [it, inserted] = merged.try_emplace(key);
        if (inserted) {
          it->second = std::move(delta);
        } else {
          it->second.merge(delta);
        }
      }
    }
  }
  std::vector<TargetDelta> out;
  out.reserve(merged.size());
  for (auto& [key, delta] : merged) {
    // An entry with neither attempts nor samples (a lone truncation note) is
    // left out; a request whose attempt fell in the previous interval still
    // brings its latency.
    if (delta.outcomes.total() == 0 && delta.latency.empty()) continue;
    out.push_back(std::move(delta));
  }
  std::sort(out.begin(), out.end(), [](const TargetDelta& a, const TargetDelta& b) {
    return std::tie(a.model, a.provider) < std::tie(b.model, b.provider);
  });
  return out;
}

}  // namespace llmgate::proxy::control

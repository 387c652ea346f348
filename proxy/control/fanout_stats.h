// FanOutStats: forwards every Stats event to two sinks (the Prometheus
// metrics and the control-plane telemetry collector), so the request path
// keeps calling one Stats.
#pragma once

#include "proxy/telemetry/stats.h"

namespace llmgate::proxy::control {

class FanOutStats final : public telemetry::Stats {
 public:
  FanOutStats(telemetry::Stats& first, telemetry::Stats& second) : a_(first), b_(second) {}

  void onRequest(const telemetry::RequestRecord& r) override {
    a_.onRequest(r);
    b_.onRequest(r);
  }
  void onUpstreamAttempt(std::string_view model, std::string_view provider,
                         telemetry::AttemptOutcome outcome) override {
    a_.onUpstreamAttempt(model, provider, outcome);
    b_.onUpstreamAttempt(model, provider, outcome);
  }
  void onAttemptTiming(std::string_view model, std::string_view provider, double duration_s,
                       std::optional<double> ttft_s) override {
    a_.onAttemptTiming(model, provider, duration_s, ttft_s);
    b_.onAttemptTiming(model, provider, duration_s, ttft_s);
  }
  void onRetry(std::string_view provider, std::string_view reason) override {
    a_.onRetry(provider, reason);
    b_.onRetry(provider, reason);
  }
  void onRetryBudgetExhausted(std::string_view provider) override {
    a_.onRetryBudgetExhausted(provider);
    b_.onRetryBudgetExhausted(provider);
  }
  void onFailover(std::string_view from, std::string_view to, std::string_view reason) override {
    a_.onFailover(from, to, reason);
    b_.onFailover(from, to, reason);
  }
  void onEjection(std::string_view model, std::string_view provider) override {
    a_.onEjection(model, provider);
    b_.onEjection(model, provider);
  }
  void setEjected(std::string_view model, std::string_view provider, bool ejected) override {
    a_.setEjected(model, provider, ejected);
    b_.setEjected(model, provider, ejected);
  }
  void onTruncation(std::string_view model, std::string_view action) override {
    a_.onTruncation(model, action);
    b_.onTruncation(model, action);
  }
  void onStreamCut(std::string_view model, std::string_view provider) override {
    a_.onStreamCut(model, provider);
    b_.onStreamCut(model, provider);
  }
  void onCacheLookup(std::string_view tier, std::string_view result) override {
    a_.onCacheLookup(tier, result);
    b_.onCacheLookup(tier, result);
  }
  void setCacheBytes(std::string_view tier, double bytes) override {
    a_.setCacheBytes(tier, bytes);
    b_.setCacheBytes(tier, bytes);
  }
  void setCacheL2Available(bool available) override {
    a_.setCacheL2Available(available);
    b_.setCacheL2Available(available);
  }
  void onKeepalivePing(std::string_view provider, bool ok, double first_byte_s) override {
    a_.onKeepalivePing(provider, ok, first_byte_s);
    b_.onKeepalivePing(provider, ok, first_byte_s);
  }
  void onRouteDecision(std::string_view route, std::string_view rule) override {
    a_.onRouteDecision(route, rule);
    b_.onRouteDecision(route, rule);
  }
  void onBudgetRefused(std::string_view tenant) override {
    a_.onBudgetRefused(tenant);
    b_.onBudgetRefused(tenant);
  }

 private:
  telemetry::Stats& a_;
  telemetry::Stats& b_;
};

}  // namespace llmgate::proxy::control

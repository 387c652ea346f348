#include "control/http/endpoints.h"

#include "common/log/log.h"
#include "control/webhook/admission_review.h"

namespace llmgate::control::http {
namespace {

namespace bhttp = boost::beast::http;

Response textResponse(bhttp::status status, std::string body) {
  Response res{status, 11};
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body);
  return res;
}

std::string_view pathOf(const Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  return target.substr(0, target.find('?'));
}

}  // namespace

Handler adminHandler(const Readiness& readiness, const ControlMetrics& metrics) {
  return [&readiness, &metrics](const Request& req) {
    const std::string_view path = pathOf(req);
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      Response res = textResponse(bhttp::status::method_not_allowed, "only GET\n");
      res.set(bhttp::field::allow, "GET, HEAD");
      return res;
    }
    if (path == "/healthz") return textResponse(bhttp::status::ok, "ok\n");
    if (path == "/readyz") {
      const bool draining = readiness.draining.load();
      const bool ready = readiness.ready.load() && !draining;
      return textResponse(ready ? bhttp::status::ok : bhttp::status::service_unavailable,
                          ready ? "ready\n" : (draining ? "draining\n" : "starting\n"));
    }
    if (path == "/metrics") {
      Response res = textResponse(bhttp::status::ok, metrics.text());
      res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      return res;
    }
    return textResponse(bhttp::status::not_found,
                        "not found: admin paths are /healthz /readyz /metrics\n");
  };
}

Handler webhookHandler(const config::InjectionConfig& config, webhook::WebhookStats& stats) {
  return [&config, &stats](const Request& req) {
    const std::string_view path = pathOf(req);
    if (path != "/mutate") {
      stats.countRefused();
      return textResponse(bhttp::status::not_found, "not found: the webhook path is /mutate\n");
    }
    if (req.method() != bhttp::verb::post) {
      stats.countRefused();
      Response res = textResponse(bhttp::status::method_not_allowed, "only POST\n");
      res.set(bhttp::field::allow, "POST");
      return res;
    }
    webhook::AdmissionResult result = webhook::reviewAdmission(req.body(), config);
    stats.count(result.outcome);
    const std::string_view outcome = webhook::outcomeName(result.outcome);
    switch (result.outcome) {
      case webhook::AdmissionOutcome::kInjected:
        log::info("webhook: injected llmgate into pod ", result.pod, " (uid ", result.uid, ")",
                  result.warnings.empty() ? "" : "; warnings: ",
                  result.warnings.empty() ? std::string() : result.warnings.front());
        break;
      case webhook::AdmissionOutcome::kMalformed:
        log::warn("webhook: malformed AdmissionReview (uid \"", result.uid,
                  "\"), allowed without a patch: ", result.reason);
        break;
      default:
        log::debug("webhook: ", outcome, " pod ", result.pod, " (uid ", result.uid,
                   "): ", result.reason);
        break;
    }
    Response res = textResponse(bhttp::status::ok, std::move(result.response));
    res.set(bhttp::field::content_type, "application/json");
    return res;
  };
}

}  // namespace llmgate::control::http

// Shared by the proxy/control tests: a proxy file config and snapshots for it.
#pragma once

#include <string>

#include "common/config/loader.h"
#include "llmgate/control/v1/route_discovery.pb.h"

namespace llmgate::proxy::control::test {

inline config::Config fileConfig() {
  constexpr std::string_view kYaml = R"yaml(
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:1/v1", allow_private_network: true}
  - {name: fake2, kind: deepseek, base_url: "http://127.0.0.1:2/v1", allow_private_network: true}
models:
  - {name: file-model, provider: fake}
routes:
  - {name: auto, default: [file-model]}
)yaml";
  auto loaded =
      config::loadConfigString(kYaml, "test.yaml", [](std::string_view) { return std::nullopt; });
  if (!loaded.ok()) std::abort();
  return *loaded;
}

// models a (fake, fallbacks [b]) and b (fake2), alias auto -> rule code: [b], default [a, b].
inline ::llmgate::control::v1::RouteSnapshot goodSnapshot(std::string version = "7") {
  ::llmgate::control::v1::RouteSnapshot s;
  s.set_version(version);
  s.set_nonce("n1");
  auto* a = s.add_models();
  a->set_name("a");
  a->set_provider("fake");
  a->set_upstream_model("up-a");
  a->set_context_window(1000);
  a->mutable_price_per_mtok()->set_input(0.15);
  a->mutable_price_per_mtok()->set_output(0.6);
  a->add_fallbacks(std::string("b"));
  a->add_strengths(std::string("code"));
  auto* b = s.add_models();
  b->set_name("b");
  b->set_provider("fake2");
  auto* r = s.add_routes();
  r->set_name("auto");
  auto* rule = r->add_rules();
  rule->add_task(std::string("code"));
  rule->add_targets(std::string("b"));
  r->add_default_targets(std::string("a"));
  r->add_default_targets(std::string("b"));
  auto* o = s.add_overrides();
  o->set_id("o7-1");
  o->set_subject("a");
  o->mutable_shift()->set_to("b");
  o->mutable_shift()->set_weight(0.95);
  o->mutable_expires_at()->set_seconds(1'800'000'000);
  o->set_origin(::llmgate::control::v1::Override::ORIGIN_POLICY);
  o->set_reason("p95 3.4s > 3s");
  return s;
}

}  // namespace llmgate::proxy::control::test

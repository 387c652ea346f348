// Renders kustomize overlays with `kubectl kustomize` and validates every
// object offline: strictly against the Kubernetes OpenAPI schemas
// (strict_validate.mjs), across objects (cross_checks.mjs), the
// PrometheusRule against deploy/prometheus/alerts.yaml, and each sidecar
// config with `llmgate --check-config`.
//
//   node validate.mjs [--bin BIN_DIR] [--alerts ALERTS_YAML] [--sidecar-secret SECRET_YAML] OVERLAY_DIR...
//       (--sidecar-secret: the Secret the sidecar gets as envFrom; its keys
//       are set when `llmgate --check-config` reads the sidecar config)
//   node validate.mjs --objects FILE           # objects in a YAML/JSON file, schemas only
//   node validate.mjs --self-test [--bin DIR] [--alerts FILE] OVERLAY_DIR...
//       (mutated copies of each render must be refused)
//
// KUBECTL (default: kubectl) names the kubectl binary.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import { crossCheck } from "./cross_checks.mjs";
import { validateObject } from "./strict_validate.mjs";

const kubectl = process.env.KUBECTL || "kubectl";

function render(dir) {
  const text = execFileSync(kubectl, ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length) throw new Error(`${dir}: rendered YAML does not parse: ${doc.errors[0].message}`);
    return doc.toJS();
  }).filter((o) => o !== null);
}

function checkAlerts(objs, alertsFile) {
  const out = [];
  if (!alertsFile) return out;
  const want = parse(fs.readFileSync(alertsFile, "utf8")).groups;
  for (const rule of objs.filter((o) => o.kind === "PrometheusRule")) {
    if (!isDeepStrictEqual(rule.spec.groups, want)) out.push(`PrometheusRule/${rule.metadata.name}: spec.groups differ from ${alertsFile}`);
  }
  return out;
}

// The environment the injected sidecar has: what the webhook sets, plus
// every key of the Secret it adds as envFrom (the example of
// --sidecar-secret, placeholder values). Nothing of this process's own
// environment leaks in, so a *_env the Secret lacks is refused.
function sidecarEnv(namespace, secret) {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", POD_NAME: "validate-0", POD_NAMESPACE: namespace,
    LLMGATE_CONTROL_ADDRESS: "llmgate-control.llmgate-system.svc:50051" };
  if (secret && (secret.metadata?.namespace ?? namespace) === namespace) {
    for (const k of Object.keys(secret.stringData ?? {})) env[k] = String(secret.stringData[k]);
    for (const k of Object.keys(secret.data ?? {})) env[k] = Buffer.from(secret.data[k], "base64").toString();
  }
  return env;
}

function checkSidecarConfig(objs, binDir, secret) {
  const out = [];
  for (const cm of objs.filter((o) => o.kind === "ConfigMap" && o.metadata.name === "llmgate-sidecar-config")) {
    const text = cm.data?.["llmgate.yaml"];
    if (!text) { out.push("ConfigMap llmgate-sidecar-config: no key llmgate.yaml"); continue; }
    if (!binDir) continue;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmgate-sidecar-"));
    const file = path.join(dir, "llmgate.yaml");
    fs.writeFileSync(file, text);
    const r = spawnSync(path.join(binDir, "llmgate"), ["--check-config", file],
      { encoding: "utf8", env: sidecarEnv(cm.metadata.namespace, secret) });
    fs.rmSync(dir, { recursive: true });
    if (r.status !== 0) out.push(`ConfigMap llmgate-sidecar-config: llmgate --check-config (with the keys of Secret ${secret?.metadata?.name ?? "<none>"}) refused it: ${(r.stdout + r.stderr).trim()}`);
  }
  return out;
}

function loadSidecarSecret(file) {
  if (!file) return undefined;
  const objs = parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean);
  if (objs.length !== 1 || objs[0].kind !== "Secret") throw new Error(`${file}: expected exactly one Secret`);
  return objs[0];
}

export function checkObjects(objs, { alerts, bin, sidecarSecret } = {}) {
  const problems = [];
  for (const o of objs) {
    for (const p of validateObject(o)) problems.push(`${o.kind}/${o.metadata?.name}: ${p}`);
  }
  return [...problems, ...crossCheck(objs), ...checkAlerts(objs, alerts),
    ...checkSidecarConfig(objs, bin, sidecarSecret)];
}

// Providers the control plane routes to must exist in the sidecars' config.
function checkRoutesAgainstSidecar(all) {
  const control = all.find((o) => o.kind === "ConfigMap" && o.metadata.name === "llmgate-control-config");
  const sidecar = all.find((o) => o.kind === "ConfigMap" && o.metadata.name === "llmgate-sidecar-config");
  if (!control || !sidecar) return [];
  const providers = new Set((parse(sidecar.data["llmgate.yaml"]).providers ?? []).map((p) => p.name));
  return (parse(control.data["routes.yaml"]).models ?? [])
    .filter((m) => !providers.has(m.provider))
    .map((m) => `routes.yaml: model ${m.name} uses provider ${m.provider}, unknown to llmgate-sidecar-config (proxies would NACK)`);
}

// Mutations of a valid render; each must be refused. A mutation returns
// false when the render lacks what it changes; each must apply to at least
// one of the overlays given to --self-test.
const first = (objs, kind) => objs.find((o) => o.kind === kind);
const controlDeployment = (objs) => objs.find((o) => o.kind === "Deployment" && o.metadata.name === "llmgate-control");
const MUTATIONS = [
  ["unknown field in a container", (objs) => { const d = first(objs, "Deployment"); d.spec.template.spec.containers[0].imagePullPolicyy = "Always"; }],
  ["misspelled probe field", (objs) => { const d = controlDeployment(objs); if (!d) return false; d.spec.template.spec.containers[0].readinessProbe.periodSecond = 5; }],
  ["wrong type", (objs) => { first(objs, "Deployment").spec.replicas = "1"; }],
  ["missing required field", (objs) => { delete first(objs, "Deployment").spec.template.spec.containers[0].name; }],
  ["unknown kind", (objs) => { objs.push({ apiVersion: "v1", kind: "Pood", metadata: { name: "x", namespace: "x" } }); }],
  ["unknown field in a webhook", (objs) => { const w = first(objs, "MutatingWebhookConfiguration"); if (!w) return false; w.webhooks[0].clientConfig.service.paht = "/mutate"; }],
  ["failurePolicy Fail", (objs) => { const w = first(objs, "MutatingWebhookConfiguration"); if (!w) return false; w.webhooks[0].failurePolicy = "Fail"; }],
  ["webhook Service port", (objs) => { const w = first(objs, "MutatingWebhookConfiguration"); if (!w) return false; w.webhooks[0].clientConfig.service.port = 9443; }],
  ["Service targets an unnamed port", (objs) => { const s = first(objs, "Service"); if (!s) return false; s.spec.ports[0].targetPort = "grcp"; }],
  ["unknown ConfigMap volume", (objs) => { const d = controlDeployment(objs); if (!d) return false; d.spec.template.spec.volumes.find((v) => v.configMap).configMap.name = "nope"; }],
  ["root filesystem writable", (objs) => { first(objs, "Deployment").spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false; }],
  ["no memory limit", (objs) => { delete first(objs, "Deployment").spec.template.spec.containers[0].resources.limits.memory; }],
  ["control config port not exposed", (objs) => { const cm = objs.find((o) => o.metadata.name === "llmgate-control-config"); if (!cm) return false; cm.data["control.yaml"] = cm.data["control.yaml"].replace('"0.0.0.0:8443"', '"0.0.0.0:8444"'); }],
  ["sidecar config refused by llmgate", (objs) => { const cm = objs.find((o) => o.metadata.name === "llmgate-sidecar-config"); if (!cm) return false; cm.data["llmgate.yaml"] = cm.data["llmgate.yaml"].replace("provider: vllm-qwen", "provider: vllm-qwn"); }],
  ["sidecar config names a variable its Secret lacks", (objs) => { const cm = objs.find((o) => o.metadata.name === "llmgate-sidecar-config"); if (!cm || !cm.data["llmgate.yaml"].includes("api_key_env: OPENAI_API_KEY")) return false; cm.data["llmgate.yaml"] = cm.data["llmgate.yaml"].replace("api_key_env: OPENAI_API_KEY", "api_key_env: ANTHROPIC_API_KEY"); }],
  ["injected pod's grace period below preStop + drain", (objs) => { const d = objs.find((o) => o.kind === "Deployment" && o.spec.template.metadata?.annotations?.["llmgate.io/inject"] === "true"); if (!d) return false; d.spec.template.spec.terminationGracePeriodSeconds = 30; }],
  ["injected pod without a grace period (default 30 s)", (objs) => { const d = objs.find((o) => o.kind === "Deployment" && o.spec.template.metadata?.annotations?.["llmgate.io/inject"] === "true"); if (!d) return false; delete d.spec.template.spec.terminationGracePeriodSeconds; }],
  ["control plane grace period below its own stop", (objs) => { const d = controlDeployment(objs); if (!d) return false; d.spec.template.spec.terminationGracePeriodSeconds = 5; }],
  ["control plane without its node token variable", (objs) => { const d = controlDeployment(objs); if (!d) return false; const c = d.spec.template.spec.containers[0]; c.env = c.env.filter((e) => e.name !== "LLMGATE_NODE_TOKEN"); }],
  ["unknown field in a PodMonitor", (objs) => { const m = first(objs, "PodMonitor"); if (!m) return false; m.spec.podMetricsEndpoints[0].portt = "x"; }],
  ["unknown field in a Certificate", (objs) => { const c = first(objs, "Certificate"); if (!c) return false; c.spec.dnsName = ["x"]; }],
  ["Certificate from a missing Issuer", (objs) => { const c = objs.find((o) => o.kind === "Certificate" && o.metadata.name === "llmgate-webhook-tls"); if (!c) return false; c.spec.issuerRef.name = "nope"; }],
  ["serving certificate without the Service's DNS name", (objs) => { const c = objs.find((o) => o.kind === "Certificate" && o.metadata.name === "llmgate-webhook-tls"); if (!c) return false; c.spec.dnsNames = ["llmgate-control"]; }],
  ["inject-ca-from without its Certificate", (objs) => { const i = objs.findIndex((o) => o.kind === "Certificate" && o.metadata.name === "llmgate-webhook-tls"); if (i < 0) return false; objs.splice(i, 1); }],
  ["PrometheusRule out of sync", (objs) => { const r = first(objs, "PrometheusRule"); if (!r) return false; r.spec.groups[0].rules[0].for = "1m"; }],
];

function selfTest(dirs, options) {
  let failed = 0;
  const applied = new Set();
  for (const dir of dirs) {
    const objs = render(dir);
    const clean = checkObjects(objs, options);
    if (clean.length) { console.log(`FAIL self-test: ${dir} is not valid to start with:\n  ${clean.join("\n  ")}`); failed++; continue; }
    for (const [name, mutate] of MUTATIONS) {
      const copy = structuredClone(objs);
      if (mutate(copy) === false) continue;
      applied.add(name);
      const problems = checkObjects(copy, options);
      if (problems.length) console.log(`ok    ${path.basename(dir)}: refused: ${name}: ${problems[0]}`);
      else { console.log(`FAIL  ${path.basename(dir)}: accepted: ${name}`); failed++; }
    }
  }
  for (const [name] of MUTATIONS) {
    if (!applied.has(name)) { console.log(`FAIL  self-test: no overlay to try "${name}" on`); failed++; }
  }
  return failed ? 1 : 0;
}

function main(argv) {
  const options = {};
  const dirs = [];
  let self = false;
  if (argv[0] === "--objects" && argv.length === 2) {
    const objs = parseAllDocuments(fs.readFileSync(argv[1], "utf8")).flatMap((d) => [d.toJS()].flat()).filter(Boolean);
    const problems = objs.flatMap((o) => validateObject(o).map((p) => `${o.kind}/${o.metadata?.name ?? o.metadata?.generateName}: ${p}`));
    for (const p of problems) console.log(`FAIL ${p}`);
    if (!objs.length) console.log("FAIL no object in the file");
    else if (!problems.length) console.log(`ok   ${objs.length} object(s) valid`);
    return problems.length || !objs.length ? 1 : 0;
  }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--bin") options.bin = argv[++i];
    else if (argv[i] === "--alerts") options.alerts = argv[++i];
    else if (argv[i] === "--sidecar-secret") options.sidecarSecretFile = argv[++i];
    else if (argv[i] === "--self-test") self = true;
    else dirs.push(argv[i]);
  }
  if (!dirs.length) { console.error("usage: node validate.mjs [--bin DIR] [--alerts FILE] [--sidecar-secret FILE] [--self-test] OVERLAY_DIR..."); return 2; }
  options.sidecarSecret = loadSidecarSecret(options.sidecarSecretFile);
  if (self) return selfTest(dirs, options);
  let failed = 0;
  if (options.sidecarSecret) {
    // The example Secret itself: a valid object, placeholder values only.
    const s = options.sidecarSecret;
    const problems = validateObject(s).map((p) => `Secret/${s.metadata?.name}: ${p}`);
    for (const [k, v] of Object.entries(s.stringData ?? {})) {
      if (v !== "replace-me") problems.push(`Secret/${s.metadata?.name}: stringData.${k} must be the placeholder "replace-me" (no real secret in git)`);
    }
    if (s.data) problems.push(`Secret/${s.metadata?.name}: use stringData placeholders, not data`);
    for (const p of problems) console.log(`FAIL ${options.sidecarSecretFile}: ${p}`);
    if (problems.length) failed++;
    else console.log(`ok   ${options.sidecarSecretFile}: example Secret valid (${Object.keys(s.stringData ?? {}).join(", ")})`);
  }
  const all = [];
  for (const dir of dirs) {
    let objs;
    try { objs = render(dir); } catch (err) { console.log(`FAIL ${dir}: kubectl kustomize: ${(err.stderr || err.message).toString().trim()}`); failed++; continue; }
    all.push(...objs);
    const problems = objs.length ? checkObjects(objs, options) : ["renders no object"];
    const kinds = [...new Set(objs.map((o) => o.kind))].join(", ");
    if (problems.length) { failed++; console.log(`FAIL ${dir} (${objs.length} objects):\n  ${problems.join("\n  ")}`); }
    else console.log(`ok   ${dir}: ${objs.length} objects valid (${kinds})`);
  }
  const shared = checkRoutesAgainstSidecar(all);
  for (const p of shared) console.log(`FAIL ${p}`);
  return failed || shared.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));

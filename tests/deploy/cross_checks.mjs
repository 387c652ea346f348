// Checks across the objects of one rendered overlay that no schema can make:
// references between objects (selectors, ports, volumes, the webhook's
// Service and CA), the hardening every Deployment must have, and the
// llmgate-specific contracts (docs/KUBERNETES.md). Each returns problems.
import path from "node:path";
import { parse } from "yaml";

const CLUSTER_SCOPED = new Set(["Namespace", "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration", "ClusterRole", "ClusterRoleBinding", "ClusterIssuer",
  "CustomResourceDefinition", "PriorityClass", "StorageClass"]);

const id = (o) => `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;
const find = (objs, kind, ns, name) =>
  objs.find((o) => o.kind === kind && o.metadata?.name === name && (ns === undefined || o.metadata?.namespace === ns));
const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const allContainers = (spec) => [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
const workloads = (objs) => objs.filter((o) => o.kind === "Deployment");

function checkNamespaces(objs, out) {
  for (const o of objs) {
    const scoped = CLUSTER_SCOPED.has(o.kind);
    if (!scoped && !o.metadata?.namespace) out.push(`${id(o)}: namespaced object without a namespace`);
    if (scoped && o.metadata?.namespace) out.push(`${id(o)}: cluster-scoped object with a namespace`);
  }
}

function checkWorkload(d, objs, out) {
  const spec = d.spec.template.spec;
  const ns = d.metadata.namespace;
  if (!matches(d.spec.selector?.matchLabels, d.spec.template.metadata?.labels)) {
    out.push(`${id(d)}: spec.selector does not match the pod template's labels`);
  }
  for (const c of allContainers(spec)) {
    const where = `${id(d)} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (!(sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot)) out.push(`${where}: runAsNonRoot not set`);
    if (sc.readOnlyRootFilesystem !== true) out.push(`${where}: readOnlyRootFilesystem not true`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${where}: allowPrivilegeEscalation not false`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) out.push(`${where}: capabilities.drop lacks ALL`);
    for (const kind of ["requests", "limits"]) {
      for (const r of ["cpu", "memory"]) {
        if (!c.resources?.[kind]?.[r]) out.push(`${where}: resources.${kind}.${r} not set`);
      }
    }
    const mounts = new Set((c.volumeMounts ?? []).map((m) => m.name));
    for (const m of mounts) {
      if (!(spec.volumes ?? []).some((v) => v.name === m)) out.push(`${where}: mounts unknown volume ${m}`);
    }
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
      if (!ref || ref.optional) continue;
      const kind = e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap";
      if (!find(objs, kind, ns, ref.name)) out.push(`${where}: env ${e.name} needs ${kind} ${ref.name}, not rendered (make it optional or render it)`);
    }
  }
  for (const v of spec.volumes ?? []) {
    if (v.configMap && !v.configMap.optional && !find(objs, "ConfigMap", ns, v.configMap.name)) {
      out.push(`${id(d)}: volume ${v.name} needs ConfigMap ${v.configMap.name}, not rendered`);
    }
    if (v.persistentVolumeClaim && !find(objs, "PersistentVolumeClaim", ns, v.persistentVolumeClaim.claimName)) {
      out.push(`${id(d)}: volume ${v.name} needs PersistentVolumeClaim ${v.persistentVolumeClaim.claimName}, not rendered`);
    }
    if (v.secret && !v.secret.optional) {
      const name = v.secret.secretName;
      const fromCert = objs.some((o) => o.kind === "Certificate" && o.metadata.namespace === ns && o.spec?.secretName === name);
      if (!find(objs, "Secret", ns, name) && !fromCert) {
        out.push(`${id(d)}: volume ${v.name} needs Secret ${name}: neither a Secret nor a Certificate makes it`);
      }
    }
  }
}

function checkServices(objs, out) {
  for (const s of objs.filter((o) => o.kind === "Service")) {
    const pods = workloads(objs).filter((d) => d.metadata.namespace === s.metadata.namespace &&
      matches(s.spec.selector, d.spec.template.metadata?.labels));
    if (!pods.length) { out.push(`${id(s)}: selector matches no rendered pod template`); continue; }
    const names = new Set(pods.flatMap((d) => allContainers(d.spec.template.spec))
      .flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    for (const p of s.spec.ports ?? []) {
      if (typeof p.targetPort === "string" && !names.has(p.targetPort)) {
        out.push(`${id(s)}: port ${p.name} targets ${p.targetPort}, which no selected container names`);
      }
    }
  }
  for (const m of objs.filter((o) => o.kind === "ServiceMonitor")) {
    const svcs = objs.filter((o) => o.kind === "Service" && matches(m.spec.selector?.matchLabels, o.metadata.labels));
    if (!svcs.length) out.push(`${id(m)}: selects no rendered Service`);
    for (const e of m.spec.endpoints ?? []) {
      if (!svcs.some((s) => s.spec.ports.some((p) => p.name === e.port))) out.push(`${id(m)}: no selected Service has port ${e.port}`);
    }
  }
}

function checkWebhook(objs, out) {
  for (const w of objs.filter((o) => o.kind === "MutatingWebhookConfiguration")) {
    for (const hook of w.webhooks ?? []) {
      const at = `${id(w)} webhook ${hook.name}`;
      const svcRef = hook.clientConfig?.service;
      if (!svcRef) { out.push(`${at}: clientConfig.service not set`); continue; }
      const svc = find(objs, "Service", svcRef.namespace, svcRef.name);
      if (!svc) out.push(`${at}: Service ${svcRef.namespace}/${svcRef.name} not rendered`);
      else if (!svc.spec.ports.some((p) => p.port === (svcRef.port ?? 443))) out.push(`${at}: Service has no port ${svcRef.port}`);
      if (svcRef.path !== "/mutate") out.push(`${at}: path is ${svcRef.path}, the webhook serves /mutate`);
      if (hook.failurePolicy !== "Ignore") out.push(`${at}: failurePolicy must be Ignore`);
      if (hook.sideEffects !== "None") out.push(`${at}: sideEffects must be None`);
      if (JSON.stringify(hook.admissionReviewVersions) !== '["v1"]') out.push(`${at}: admissionReviewVersions must be [v1]`);
      if (!(hook.timeoutSeconds >= 1 && hook.timeoutSeconds <= 30)) out.push(`${at}: timeoutSeconds must be 1..30`);
      if (!hook.namespaceSelector?.matchLabels && !hook.namespaceSelector?.matchExpressions) out.push(`${at}: no namespaceSelector`);
      const host = `${svcRef.name}.${svcRef.namespace}.svc`;
      const injectFrom = w.metadata.annotations?.["cert-manager.io/inject-ca-from"];
      if (injectFrom) {
        const [ns, name] = injectFrom.split("/");
        const cert = find(objs, "Certificate", ns, name);
        if (!cert) out.push(`${at}: inject-ca-from names Certificate ${injectFrom}, not rendered`);
        else if (!(cert.spec.dnsNames ?? []).includes(host)) out.push(`${at}: Certificate ${injectFrom} lacks dnsName ${host}`);
      } else if (hook.clientConfig.caBundle) {
        const secret = objs.find((o) => o.kind === "Secret" && o.metadata.namespace === svcRef.namespace && o.data?.["ca.crt"]);
        const bundle = Buffer.from(hook.clientConfig.caBundle, "base64").toString();
        if (!bundle.startsWith("-----BEGIN CERTIFICATE-----")) out.push(`${at}: caBundle is not PEM certificates`);
        if (secret && !bundle.startsWith(Buffer.from(secret.data["ca.crt"], "base64").toString())) {
          out.push(`${at}: caBundle does not start with Secret ${secret.metadata.name}'s ca.crt`);
        }
      } else {
        out.push(`${at}: no caBundle and no cert-manager.io/inject-ca-from annotation`);
      }
    }
  }
}

// cert-manager: every Certificate's Issuer is rendered; a CA Issuer's
// secret is made by a CA Certificate.
function checkCertManager(objs, out) {
  for (const c of objs.filter((o) => o.kind === "Certificate")) {
    const ref = c.spec.issuerRef ?? {};
    if ((ref.kind ?? "Issuer") === "Issuer" && !find(objs, "Issuer", c.metadata.namespace, ref.name)) {
      out.push(`${id(c)}: issuerRef names Issuer ${ref.name}, not rendered`);
    }
  }
  for (const i of objs.filter((o) => o.kind === "Issuer" && o.spec?.ca)) {
    const ca = objs.find((o) => o.kind === "Certificate" && o.metadata.namespace === i.metadata.namespace &&
      o.spec.secretName === i.spec.ca.secretName);
    if (!ca && !find(objs, "Secret", i.metadata.namespace, i.spec.ca.secretName)) out.push(`${id(i)}: CA secret ${i.spec.ca.secretName} is made by nothing rendered`);
    else if (ca && !ca.spec.isCA) out.push(`${id(i)}: Certificate ${ca.metadata.name} behind the CA Issuer is not isCA`);
  }
}

function checkSecrets(objs, out) {
  for (const s of objs.filter((o) => o.kind === "Secret")) {
    for (const [k, v] of Object.entries(s.data ?? {})) {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) out.push(`${id(s)}: data.${k} is not base64`);
    }
    if (s.type === "kubernetes.io/tls" && !(s.data?.["tls.crt"] && s.data?.["tls.key"])) out.push(`${id(s)}: TLS Secret without tls.crt and tls.key`);
  }
}

// A llmgate duration ("30s", "500ms", "2m", "1h") in seconds; undefined when absent.
function seconds(text) {
  if (text === undefined || text === null) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(text));
  if (!m) return NaN;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
}

// Injected pods: the grace period (Kubernetes' default 30 s when unset) must
// hold the sidecar's preStop sleep, its drain_timeout and ~2 s
// (docs/KUBERNETES.md, "Termination"). The webhook raises a lower value, but
// a Deployment that asks for less than it needs is a mistake to fix here.
function checkInjectedGrace(objs, out) {
  const control = find(objs, "ConfigMap", undefined, "llmgate-control-config");
  const injection = control ? parse(control.data?.["control.yaml"] ?? "")?.injection ?? {} : {};
  const preStop = seconds(injection.pre_stop_sleep) ?? 5;
  for (const d of workloads(objs)) {
    if (d.spec.template.metadata?.annotations?.["llmgate.io/inject"] !== "true") continue;
    const cm = find(objs, "ConfigMap", d.metadata.namespace, "llmgate-sidecar-config");
    const sidecar = cm ? parse(cm.data?.["llmgate.yaml"] ?? "") ?? {} : {};
    const drain = seconds(sidecar.server?.drain_timeout) ?? 30;
    const grace = d.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    if (!(grace >= preStop + drain + 2)) {
      out.push(`${id(d)}: terminationGracePeriodSeconds ${grace} < preStop ${preStop} s + sidecar drain_timeout ${drain} s + 2 s`);
    }
  }
}

// llmgate-control's own stop after SIGTERM: webhook drain 2 s + gRPC
// shutdown grace 5 s (control/main.cc), plus a margin.
const CONTROL_STOP_SECONDS = 10;

// The control plane's config must agree with its Deployment's mounts.
function checkControlPlane(objs, out) {
  const d = find(objs, "Deployment", undefined, "llmgate-control");
  if (!d) return;
  const spec = d.spec.template.spec;
  const c = spec.containers.find((x) => x.name === "llmgate-control");
  if (!c) { out.push(`${id(d)}: no container llmgate-control`); return; }
  for (const probe of ["readinessProbe", "livenessProbe"]) {
    if (c[probe]?.grpc?.port !== 50051) out.push(`${id(d)}: ${probe} must be the gRPC health service on 50051`);
  }
  const mountOf = (volumeName) => (c.volumeMounts ?? []).find((m) => m.name === volumeName);
  const volumeFor = (pred) => (spec.volumes ?? []).find(pred);
  const args = c.args ?? [];
  const configPath = args[args.indexOf("--config") + 1];
  const cmVolume = volumeFor((v) => v.configMap?.name === "llmgate-control-config");
  const cm = find(objs, "ConfigMap", d.metadata.namespace, "llmgate-control-config");
  if (!cmVolume || !cm || !configPath) { out.push(`${id(d)}: config ConfigMap, volume or --config missing`); return; }
  const cmMount = mountOf(cmVolume.name);
  if (!cmMount || path.dirname(configPath) !== cmMount.mountPath || !cm.data?.[path.basename(configPath)]) {
    out.push(`${id(d)}: --config ${configPath} is not a key of the mounted ConfigMap`);
    return;
  }
  const config = parse(cm.data[path.basename(configPath)]);
  if (!cm.data[config.routes_file]) out.push(`llmgate-control-config: routes_file ${config.routes_file} is not a key of the ConfigMap`);
  const tlsVolume = volumeFor((v) => v.secret?.secretName === "llmgate-webhook-tls");
  const tlsMount = tlsVolume && mountOf(tlsVolume.name);
  for (const key of ["cert_file", "key_file"]) {
    const file = config.webhook_tls?.[key];
    if (!tlsMount || !file || path.dirname(file) !== tlsMount.mountPath) out.push(`llmgate-control-config: webhook_tls.${key} (${file}) is not in the llmgate-webhook-tls mount`);
  }
  const stateMount = (c.volumeMounts ?? []).find((m) => m.mountPath === path.dirname(config.state_file ?? ""));
  if (!stateMount || stateMount.readOnly) out.push(`llmgate-control-config: state_file ${config.state_file} is not on a writable volume`);
  // The token variables the config names must be given to the container
  // (llmgate-control refuses to start on an unset node_token_env).
  const envNames = new Set((c.env ?? []).map((e) => e.name));
  for (const key of ["admin_token_env", "node_token_env"]) {
    if (config[key] && !envNames.has(config[key])) out.push(`llmgate-control-config: ${key} ${config[key]} is not an env variable of the container`);
  }
  const grace = spec.terminationGracePeriodSeconds ?? 30;
  if (grace < CONTROL_STOP_SECONDS) out.push(`${id(d)}: terminationGracePeriodSeconds ${grace} < ${CONTROL_STOP_SECONDS} s (llmgate-control's own stop)`);
  const ports = new Map((c.ports ?? []).map((p) => [p.containerPort, p.name]));
  for (const key of ["listen", "admin_listen", "webhook_listen"]) {
    const port = Number(String(config[key] ?? "").split(":").pop());
    if (!ports.has(port)) out.push(`llmgate-control-config: ${key} port ${port} is not a container port`);
  }
}

export function crossCheck(objs) {
  const out = [];
  checkNamespaces(objs, out);
  for (const d of workloads(objs)) checkWorkload(d, objs, out);
  checkServices(objs, out);
  checkWebhook(objs, out);
  checkSecrets(objs, out);
  checkCertManager(objs, out);
  checkControlPlane(objs, out);
  checkInjectedGrace(objs, out);
  return out;
}

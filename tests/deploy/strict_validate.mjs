// Validates one Kubernetes object against its OpenAPI schema (the ajv
// validators shipped in kubernetes-models, @kubernetes-models/cert-manager
// and @kubernetes-models/prometheus-operator), strictly: on top of the
// schema (types, required fields, formats) an unknown field is an error, as
// with `kubectl apply --validate=strict`. Kubernetes' schemas do not say
// additionalProperties: false, so unknown fields are found by watching the
// validator: it looks up every property its schema declares; a key of the
// object it never looked up is unknown. Objects whose keys it enumerates
// (maps such as labels) or never looks into (free-form fields) are skipped.
import * as coreV1 from "kubernetes-models/v1";
import * as appsV1 from "kubernetes-models/apps/v1";
import * as batchV1 from "kubernetes-models/batch/v1";
import * as policyV1 from "kubernetes-models/policy/v1";
import * as rbacV1 from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as admissionV1 from "kubernetes-models/admissionregistration.k8s.io/v1";
import * as networkingV1 from "kubernetes-models/networking.k8s.io/v1";
import * as autoscalingV2 from "kubernetes-models/autoscaling/v2";
import * as monitoringV1 from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import * as certManagerV1 from "@kubernetes-models/cert-manager/cert-manager.io/v1";

const MODULES = [coreV1, appsV1, batchV1, policyV1, rbacV1, admissionV1, networkingV1,
                 autoscalingV2, monitoringV1, certManagerV1];

const models = new Map();
for (const mod of MODULES) {
  for (const value of Object.values(mod)) {
    if (typeof value === "function" && value.apiVersion && value.kind) {
      models.set(`${value.apiVersion}/${value.kind}`, value);
    }
  }
}

export function knownKinds() {
  return [...models.keys()];
}

// Wraps `value` so that property look-ups are recorded per object.
function track(value, path, records) {
  if (Array.isArray(value)) return value.map((v, i) => track(v, `${path}[${i}]`, records));
  if (value === null || typeof value !== "object") return value;
  const record = { path, keys: Object.keys(value), looked: new Set(), enumerated: false };
  records.push(record);
  const copy = {};
  for (const key of record.keys) copy[key] = track(value[key], path ? `${path}.${key}` : key, records);
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === "string") record.looked.add(key);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      if (typeof key === "string") record.looked.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

function describeErrors(err) {
  const list = err?.errors ?? err?.details ?? [];
  if (Array.isArray(list) && list.length) {
    return list.map((e) => `${(e.instancePath || "/").replace(/^\//, "").replaceAll("/", ".") || "<root>"}: ${e.message ?? e.keyword}`);
  }
  return [String(err?.message ?? err)];
}

// Returns a list of problems (empty: valid).
export function validateObject(obj) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return ["not an object"];
  const key = `${obj.apiVersion}/${obj.kind}`;
  const Model = models.get(key);
  if (!Model) return [`no schema for apiVersion ${obj.apiVersion}, kind ${obj.kind}`];
  const records = [];
  const tracked = track(obj, "", records);
  try {
    Model.prototype.validate.call(tracked);
  } catch (err) {
    return describeErrors(err);
  }
  const problems = [];
  for (const r of records) {
    if (r.enumerated || r.looked.size === 0) continue;
    for (const k of r.keys) {
      if (!r.looked.has(k)) problems.push(`${r.path ? `${r.path}.` : ""}${k}: unknown field`);
    }
  }
  return problems;
}

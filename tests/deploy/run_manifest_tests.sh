#!/usr/bin/env bash
# CTest driver for the Kubernetes manifests (docs/KUBERNETES.md, "Deploying").
#   run_manifest_tests.sh validate  BIN_DIR   render every overlay and validate it
#   run_manifest_tests.sh selftest  BIN_DIR   broken renders must be refused
#   run_manifest_tests.sh selfsigned          scripts/webhook-selfsigned-cert.sh output
# Works on a temporary copy of deploy/ in which the self-signed overlay's
# generated/ files are created by the script itself (they are never committed).
set -euo pipefail
mode=${1:?usage: run_manifest_tests.sh validate|selftest|selfsigned [BIN_DIR]}
bin_dir=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

command -v "${KUBECTL:-kubectl}" >/dev/null || { echo "deploy: kubectl (>= 1.27, kustomize 5) is needed to render the overlays" >&2; exit 1; }
if [ "$mode" != selfsigned ]; then
  [ -d "$here/node_modules/kubernetes-models" ] || { echo "deploy: tests/deploy/node_modules missing: run scripts/install-e2e (make test does)" >&2; exit 1; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$repo/deploy" "$work/deploy"
rm -rf "$work/deploy/k8s/overlays/selfsigned/generated"
gen="$work/deploy/k8s/overlays/selfsigned/generated"
bash "$repo/scripts/webhook-selfsigned-cert.sh" --out "$gen" --days 2 >/dev/null

overlays=()
for d in "$work"/deploy/k8s/overlays/*/; do overlays+=("${d%/}"); done
[ ${#overlays[@]} -ge 3 ] || { echo "deploy: expected at least 3 overlays, found ${#overlays[@]}" >&2; exit 1; }
alerts="$repo/deploy/prometheus/alerts.yaml"
# The sidecar's envFrom Secret (placeholders): its keys are the environment
# `llmgate --check-config` reads the sidecar config with.
sidecar_secret="$work/deploy/k8s/overlays/example-app/sidecar-secrets.example.yaml"

case "$mode" in
  validate)
    node "$here/validate.mjs" --bin "$bin_dir" --alerts "$alerts" --sidecar-secret "$sidecar_secret" "${overlays[@]}"
    ;;
  selftest)
    node "$here/validate.mjs" --self-test --bin "$bin_dir" --alerts "$alerts" --sidecar-secret "$sidecar_secret" \
      "$work/deploy/k8s/overlays/cert-manager" "$work/deploy/k8s/overlays/example-app"
    ;;
  selfsigned)
    secret="$gen/webhook-tls-secret.yaml"
    [ "$(stat -c %a "$secret")" = 600 ] || { echo "FAIL: $secret is not mode 0600" >&2; exit 1; }
    python3 - "$secret" "$gen/cabundle-patch.yaml" "$work" <<'PY'
import base64, sys, yaml
secret, patch, work = sys.argv[1:]
s = yaml.safe_load(open(secret))
assert s["kind"] == "Secret" and s["type"] == "kubernetes.io/tls", s
assert s["metadata"] == {"name": "llmgate-webhook-tls", "namespace": "llmgate-system"}, s["metadata"]
for key in ("tls.crt", "tls.key", "ca.crt"):
    open(f"{work}/{key}", "wb").write(base64.b64decode(s["data"][key], validate=True))
p = yaml.safe_load(open(patch))
assert p == [{"op": "add", "path": "/webhooks/0/clientConfig/caBundle", "value": s["data"]["ca.crt"]}], p
PY
    openssl verify -CAfile "$work/ca.crt" "$work/tls.crt"
    text=$(openssl x509 -in "$work/tls.crt" -noout -text)
    for want in "DNS:llmgate-control.llmgate-system.svc" "DNS:llmgate-control.llmgate-system.svc.cluster.local" \
                "TLS Web Server Authentication" "CA:FALSE"; do
      grep -q "$want" <<<"$text" || { echo "FAIL: serving certificate lacks $want" >&2; exit 1; }
    done
    # The key in the Secret belongs to the certificate.
    [ "$(openssl pkey -in "$work/tls.key" -pubout)" = "$(openssl x509 -in "$work/tls.crt" -noout -pubkey)" ] \
      || { echo "FAIL: tls.key does not match tls.crt" >&2; exit 1; }
    openssl x509 -in "$work/tls.crt" -noout -checkend 86400 >/dev/null || { echo "FAIL: certificate expires within a day" >&2; exit 1; }
    # Rotation: the new caBundle holds the new CA, then the previous one.
    bash "$repo/scripts/webhook-selfsigned-cert.sh" --out "$gen" --days 2 >/dev/null
    python3 - "$secret" "$gen/cabundle-patch.yaml" "$work" <<'PY'
import base64, sys, yaml
secret, patch, work = sys.argv[1:]
new_ca = base64.b64decode(yaml.safe_load(open(secret))["data"]["ca.crt"]).decode()
bundle = base64.b64decode(yaml.safe_load(open(patch))[0]["value"]).decode()
old_ca = open(f"{work}/ca.crt").read()
assert new_ca != old_ca, "rotation kept the CA"
assert bundle == new_ca + old_ca, "caBundle after rotation is not new CA + previous CA"
PY
    # Refuses nonsense instead of writing half a result.
    if bash "$repo/scripts/webhook-selfsigned-cert.sh" --out "$work/x" --days abc 2>/dev/null; then
      echo "FAIL: --days abc accepted" >&2; exit 1
    fi
    [ ! -e "$work/x" ] || { echo "FAIL: output written despite a bad argument" >&2; exit 1; }
    echo "ok: self-signed webhook certificate verified (CA, SANs, key pair, 0600, caBundle patch, rotation keeps the previous CA)"
    ;;
  *) echo "usage: run_manifest_tests.sh validate|selftest|selfsigned [BIN_DIR]" >&2; exit 2 ;;
esac

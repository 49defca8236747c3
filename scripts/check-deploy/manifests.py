"""Checks of one `helm template` output that kubernetes-validate cannot do.

Usage: manifests.py RENDERED.yaml KUBERNETES_ONLY.yaml [CONFIG_DIR]

Writes the documents of Kubernetes' own kinds to KUBERNETES_ONLY.yaml (for
kubernetes-validate, which has no schema for custom resources), and checks
here what is left or lies inside strings:
- each PrometheusRule against prometheusrule.schema.json (the fields the
  Prometheus operator's CRD defines for the parts the chart writes);
- each ConfigMap's vigie.toml parses as TOML and holds no secret key;
- the Grafana dashboard parses as JSON and has panels;
- the promises of the chart's README hold for every Deployment: hardened
  security context, probes, no service-account token, secrets only from
  Secrets, a NetworkPolicy selecting its pods, SMTP egress for alerting only.
With CONFIG_DIR, each role's vigie.toml is also written there as ROLE.toml,
the environment its Deployment gives as ROLE.env (NAME=VALUE lines, every
Secret replaced by a stand-in, the database unreachable) and its container's
arguments as ROLE.args (one a line, pointing at ROLE.toml), for
check-deploy.sh to run them with the real binary.
Exits 1 with one line per problem.
"""

import json
import pathlib
import sys
import tomllib

import jsonschema
import yaml

CUSTOM_KINDS = {("monitoring.coreos.com/v1", "PrometheusRule")}
# Secrets reach the pods as VIGIE_* variables from Secrets, never in a ConfigMap.
SECRET_KEYS = {
    "database_url",
    "pseudonym_secret",
    "link_secret",
    "previous_link_secrets",
    "password",
    "api_key",
    "link_nats_url",
}
HERE = pathlib.Path(__file__).parent
STAND_IN_SECRET = "check-deploy-0123456789-abcdefghijklmnop"
UNREACHABLE_DATABASE = "postgres://vigie@127.0.0.1:1/vigie"
# A NATS URL with a password (VIGIE_NATS_URL, the federation link), as unreachable.
STAND_IN_NATS_URL = "nats://stand-in:check-deploy-password@127.0.0.1:1"


def secret_keys_in(table, path=""):
    for key, value in table.items():
        where = f"{path}.{key}" if path else key
        if key in SECRET_KEYS:
            yield where
        if isinstance(value, dict):
            yield from secret_keys_in(value, where)


def check(doc, rule_schema):
    kind = doc.get("kind")
    name = doc.get("metadata", {}).get("name", "?")
    if (doc.get("apiVersion"), kind) in CUSTOM_KINDS:
        for error in jsonschema.Draft7Validator(rule_schema).iter_errors(doc):
            yield f"{kind}/{name}: {error.json_path}: {error.message}"
    if kind == "ConfigMap":
        for file, text in doc.get("data", {}).items():
            if file.endswith(".toml"):
                try:
                    config = tomllib.loads(text)
                except tomllib.TOMLDecodeError as error:
                    yield f"ConfigMap/{name}: {file} is not TOML: {error}"
                    continue
                for key in secret_keys_in(config):
                    yield f"ConfigMap/{name}: {file} holds the secret key {key}"
            if file.endswith(".json"):
                try:
                    dashboard = json.loads(text)
                except json.JSONDecodeError as error:
                    yield f"ConfigMap/{name}: {file} is not JSON: {error}"
                    continue
                if not dashboard.get("panels"):
                    yield f"ConfigMap/{name}: {file} has no panels"


def deployment_promises(doc, docs):
    name = doc["metadata"]["name"]
    role = doc["metadata"]["labels"].get("app.kubernetes.io/component")
    pod = doc["spec"]["template"]["spec"]
    if pod.get("automountServiceAccountToken") is not False:
        yield f"Deployment/{name}: the service-account token is mounted"
    pod_context = pod.get("securityContext", {})
    if pod_context.get("runAsNonRoot") is not True:
        yield f"Deployment/{name}: the pod may run as root"
    for container in pod["containers"]:
        context = container.get("securityContext", {})
        expected = {
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
        }
        for key, value in expected.items():
            if context.get(key) is not value:
                yield f"Deployment/{name}: container {container['name']} has no {key}: {value}"
        if context.get("capabilities", {}).get("drop") != ["ALL"]:
            yield f"Deployment/{name}: container {container['name']} keeps capabilities"
        if context.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            yield f"Deployment/{name}: container {container['name']} has no RuntimeDefault seccomp profile"
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if probe not in container:
                yield f"Deployment/{name}: container {container['name']} has no {probe}"
        for var in container.get("env", []):
            # URLs carry their user's password (database, NATS, federation link).
            secret_like = var["name"].endswith("_URL") or any(
                word in var["name"] for word in ("SECRET", "PASSWORD", "API_KEY")
            )
            if secret_like and "secretKeyRef" not in var.get("valueFrom", {}):
                yield f"Deployment/{name}: {var['name']} does not come from a Secret"
        if "resources" not in container or "requests" not in container["resources"]:
            yield f"Deployment/{name}: container {container['name']} has no resource requests"
    selector = doc["spec"]["selector"]["matchLabels"]
    policies = [
        d for d in docs if d.get("kind") == "NetworkPolicy" and d["spec"]["podSelector"].get("matchLabels") == selector
    ]
    network_policy_on = any(d.get("kind") == "NetworkPolicy" for d in docs)
    if network_policy_on and len(policies) != 1:
        yield f"Deployment/{name}: {len(policies)} NetworkPolicy select its pods (expected 1)"
    for policy in policies:
        egress_ports = {p["port"] for rule in policy["spec"].get("egress", []) for p in rule.get("ports", [])}
        if role != "alerting" and egress_ports & {25, 465, 587}:
            yield f"NetworkPolicy/{policy['metadata']['name']}: SMTP egress for {role}, only alerting sends mail"


def stand_in_environment(deployment):
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        for var in container.get("env", []):
            if var["name"] == "VIGIE_DATABASE_URL":
                yield var["name"], UNREACHABLE_DATABASE
            elif var["name"].endswith("NATS_URL"):
                yield var["name"], STAND_IN_NATS_URL
            elif "valueFrom" in var:
                yield var["name"], STAND_IN_SECRET
            elif not var["name"].startswith("OTEL_"):
                yield var["name"], var.get("value", "")


def write_configs(docs, directory):
    for doc in docs:
        role = doc.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/component")
        if not role:
            continue
        if doc.get("kind") == "ConfigMap" and "vigie.toml" in doc.get("data", {}):
            (pathlib.Path(directory) / f"{role}.toml").write_text(doc["data"]["vigie.toml"])
        if doc.get("kind") == "Deployment":
            lines = [f"{name}={value}\n" for name, value in stand_in_environment(doc)]
            (pathlib.Path(directory) / f"{role}.env").write_text("".join(lines))
            # The container's arguments (e.g. federation's --national), with the
            # ConfigMap's path replaced by the file written next to them.
            args = doc["spec"]["template"]["spec"]["containers"][0]["args"]
            args = [str(pathlib.Path(directory) / f"{role}.toml") if a == "/etc/vigie/vigie.toml" else a for a in args]
            (pathlib.Path(directory) / f"{role}.args").write_text("".join(f"{a}\n" for a in args))


def main(rendered, kubernetes_only, config_dir=None):
    rule_schema = json.loads((HERE / "prometheusrule.schema.json").read_text())
    docs = [d for d in yaml.safe_load_all(pathlib.Path(rendered).read_text()) if d]
    problems = [p for doc in docs for p in check(doc, rule_schema)]
    problems += [p for doc in docs if doc.get("kind") == "Deployment" for p in deployment_promises(doc, docs)]
    own = [d for d in docs if (d.get("apiVersion"), d.get("kind")) not in CUSTOM_KINDS]
    pathlib.Path(kubernetes_only).write_text(yaml.safe_dump_all(own, sort_keys=False))
    if config_dir:
        write_configs(docs, config_dir)
    for problem in problems:
        print(f"  {rendered}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

"""Checks of one `helm template` output that kubernetes-validate cannot do.

Usage: manifests.py RENDERED.yaml KUBERNETES_ONLY.yaml

Writes the documents of Kubernetes' own kinds to KUBERNETES_ONLY.yaml (for
kubernetes-validate, which has no schema for custom resources), and checks
here what is left or lies inside strings:
- each PrometheusRule against prometheusrule.schema.json (the fields the
  Prometheus operator's CRD defines for the parts the chart writes);
- each ConfigMap's vigie.toml parses as TOML and holds no secret key;
- the Grafana dashboard parses as JSON and has panels.
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
SECRET_KEYS = {"database_url", "pseudonym_secret", "link_secret", "previous_link_secrets", "password", "api_key"}
HERE = pathlib.Path(__file__).parent


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


def main(rendered, kubernetes_only):
    rule_schema = json.loads((HERE / "prometheusrule.schema.json").read_text())
    docs = [d for d in yaml.safe_load_all(pathlib.Path(rendered).read_text()) if d]
    problems = [p for doc in docs for p in check(doc, rule_schema)]
    own = [d for d in docs if (d.get("apiVersion"), d.get("kind")) not in CUSTOM_KINDS]
    pathlib.Path(kubernetes_only).write_text(yaml.safe_dump_all(own, sort_keys=False))
    for problem in problems:
        print(f"  {rendered}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

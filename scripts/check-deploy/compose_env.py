"""Writes, for each Vigie service of a compose file, the environment it would
get and the command it would run, with every ${VAR} interpolated from
.env.example (stand-ins for the secrets), so check-deploy.sh can hand them to
the real binary: a variable the binary does not know, or a value it refuses,
fails before anybody runs compose.

The nats-server service likewise: its environment and the configuration
it loads (`-c`), for check-deploy.sh to check that every $NAME the
configuration uses is set.

usage: compose_env.py COMPOSE_FILE ENV_EXAMPLE OUT_DIR
writes OUT_DIR/<service>.env (NAME=value lines) and OUT_DIR/<service>.args,
and for nats-server OUT_DIR/<service>.nats-env and OUT_DIR/<service>.nats-conf
(the file name under deploy/nats)
"""

import re
import sys
from pathlib import Path

from ruamel.yaml import YAML

VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def read_env(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            # secrets are CHANGE-ME in the example: a stand-in as long as a real one
            values[name] = "stand-in-secret-" + "x" * 40 if value == "CHANGE-ME" else value
    return values


def interpolate(text, values):
    def one(match):
        name, op, default = match.group(1), match.group(2), match.group(3)
        if name in values and values[name] != "":
            return values[name]
        if op in (":-", "-"):
            return default
        raise SystemExit(f"{name} is required by the compose file but missing from .env.example")

    return VARIABLE.sub(one, str(text))


def main():
    compose, env_example, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    values = read_env(env_example)
    document = YAML(typ="safe").load(Path(compose).read_text())
    out.mkdir(parents=True, exist_ok=True)
    for name, service in document.get("services", {}).items():
        command = service.get("command") or []
        env = service.get("environment") or {}
        lines = [f"{key}={interpolate(value, values)}" for key, value in env.items()]
        if str(service.get("image", "")).startswith("nats:") and "-c" in command:
            conf = interpolate(command[command.index("-c") + 1], values)
            (out / f"{name}.nats-env").write_text("\n".join(lines) + "\n")
            (out / f"{name}.nats-conf").write_text(Path(conf).name + "\n")
            continue
        if not command or command[0] != "serve":
            continue
        (out / f"{name}.env").write_text("\n".join(lines) + "\n")
        (out / f"{name}.args").write_text("\n".join(command) + "\n")


if __name__ == "__main__":
    main()

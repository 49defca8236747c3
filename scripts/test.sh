#!/usr/bin/env bash
# Runs every test of the workspace against real servers.
#
# Tests start their own nats-server and SMTP server (Python's aiosmtpd)
# processes (they stop and restart them), so only the nats-server binary and
# the aiosmtpd package are needed; PostgreSQL must answer on 127.0.0.1:5432
# as user `postgres` without a password (override with
# VIGIE_TEST_DATABASE_URL). The console's browser tests need Debian's
# chromium (or VIGIE_CHROMIUM), Playwright and html5lib for Python, and
# axe-core from npm (see ensure_browser_tools). What is missing is installed or started here, so
# the same command works on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[test]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_nats_server() {
  if [ -n "${VIGIE_NATS_SERVER:-}" ] && [ -x "${VIGIE_NATS_SERVER}" ]; then return; fi
  if command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ]; then return; fi
  log "installing nats-server (Debian package)"
  apt_install nats-server
}

ensure_aiosmtpd() {
  # The email tests send to a real SMTP server process: crates/testkit/smtp_sink.py, on Python's aiosmtpd (PyPI).
  local python="${VIGIE_PYTHON:-python3}"
  if ! command -v "$python" >/dev/null; then
    log "installing python3 (Debian package)"
    apt_install python3
  fi
  if "$python" -c 'import aiosmtpd' 2>/dev/null; then return; fi
  if ! "$python" -m pip --version >/dev/null 2>&1; then
    log "installing pip (Debian package)"
    apt_install python3-pip
  fi
  log "installing aiosmtpd (PyPI, user site of $python)"
  # Debian's own Python refuses pip outside a virtualenv (PEP 668) unless told so; a --user install leaves the
  # system's packages alone. Older pips do not know the flag but do not need it either.
  "$python" -m pip install --quiet --no-warn-script-location --user aiosmtpd 2>/dev/null \
    || "$python" -m pip install --quiet --no-warn-script-location --user --break-system-packages aiosmtpd \
    || { log "pip failed, trying the Debian package"; apt_install python3-aiosmtpd; }
  if ! "$python" -c 'import aiosmtpd'; then
    log "aiosmtpd is still not importable by $python"
    exit 1
  fi
}

ensure_browser_tools() {
  # The console's browser tests (tests/browser, run by tests/e2e/console_browser.rs) drive Debian's Chromium with
  # Playwright for Python (never `playwright install`: no browser is downloaded) and inject axe-core, taken from
  # npm once into a cache directory (VIGIE_BROWSER_TOOLS, default ~/.cache/vigie-browser-tools). HTML is checked
  # with html5lib (PyPI), which needs no Java, unlike the W3C validator.
  local python="${VIGIE_PYTHON:-python3}"
  if [ -n "${VIGIE_CHROMIUM:-}" ]; then
    [ -x "$VIGIE_CHROMIUM" ] || { log "VIGIE_CHROMIUM=$VIGIE_CHROMIUM is not an executable"; exit 1; }
  elif ! command -v chromium >/dev/null; then
    log "installing chromium (Debian package)"
    apt_install chromium
  fi
  if ! "$python" -c 'import playwright.sync_api, html5lib' 2>/dev/null; then
    "$python" -m pip --version >/dev/null 2>&1 || { log "installing pip (Debian package)"; apt_install python3-pip; }
    log "installing playwright and html5lib (PyPI, user site of $python)"
    "$python" -m pip install --quiet --no-warn-script-location --user playwright==1.63.0 html5lib==1.1 2>/dev/null \
      || "$python" -m pip install --quiet --no-warn-script-location --user --break-system-packages \
        playwright==1.63.0 html5lib==1.1
    "$python" -c 'import playwright.sync_api, html5lib' || { log "playwright is still not importable by $python"; exit 1; }
  fi
  # The version lives in one place, next to the code that loads the file.
  local axe_version cache
  axe_version=$(sed -n 's/^AXE_VERSION = "\(.*\)"$/\1/p' tests/browser/tools.py)
  cache="${VIGIE_BROWSER_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/vigie-browser-tools}/axe-core-$axe_version"
  if [ -z "${VIGIE_AXE_JS:-}" ] && [ ! -f "$cache/axe.min.js" ]; then
    command -v npm >/dev/null || { log "installing npm (Debian package)"; apt_install npm; }
    log "installing axe-core $axe_version (npm) into $cache"
    local work
    work=$(mktemp -d)
    (cd "$work" && npm pack --silent "axe-core@$axe_version" >/dev/null)
    tar -xzf "$work"/axe-core-*.tgz -C "$work" package/axe.min.js package/LICENSE
    mkdir -p "$cache"
    mv "$work/package/LICENSE" "$cache/LICENSE"
    mv "$work/package/axe.min.js" "$cache/axe.min.js"
    rm -rf "$work"
  fi
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

ensure_postgres() {
  if [ -n "${VIGIE_TEST_DATABASE_URL:-}" ]; then return; fi
  if command -v pg_isready >/dev/null && pg_ready; then return; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing PostgreSQL (Debian package)"
    apt_install postgresql
    # A throw-away test server: trust local TCP connections, as the tests expect.
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
      as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    done
  fi
  log "starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 60); do pg_ready && return; sleep 0.5; done
  log "PostgreSQL did not start on 127.0.0.1:5432"; exit 1
}

ensure_nats_server
ensure_aiosmtpd
ensure_browser_tools
ensure_postgres

# The end-to-end scenarios run the real `vigie` binary: build it first
# (cargo builds test binaries, not other packages' executables).
cargo build --workspace --bins

# The Helm chart and compose files, checked offline (helm lint and template,
# Kubernetes schemas, values schema, compose specification, each rendered
# vigie.toml loaded by the binary just built): fails the run.
log "checking the deployment files (scripts/check-deploy.sh)"
./scripts/check-deploy.sh

# Two cores: build once, run tests in parallel but bounded.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --test-threads "${VIGIE_TEST_THREADS:-4}" "$@"
else
  log "cargo-nextest not found, using cargo test"
  cargo test --workspace --no-fail-fast "$@"
fi

#!/usr/bin/env python3
"""Browser tests of the Vigie console: headless system Chromium, Playwright.

    python3 tests/browser/run.py --console http://127.0.0.1:8080 \
        --grpc http://127.0.0.1:50051 --vigie target/debug/vigie [--screenshots DIR]
    python3 tests/browser/run.py --selftest

First the checks prove they can fail (selftest.py), then the scenarios run
against the console. Every failure is collected; the run ends with a report
and exits 1 if anything failed. Tools: see tools.py (VIGIE_CHROMIUM,
VIGIE_AXE_JS, VIGIE_BROWSER_TOOLS).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from playwright.sync_api import sync_playwright

import oidc
import scenarios
import selftest
import tools
from checks import PageChecker
from report import Report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--console", help="adresse de la console (http://127.0.0.1:PORT)")
    parser.add_argument("--grpc", help="adresse gRPC des services (pour la CLI, la parole de l'API)")
    parser.add_argument("--vigie", default="vigie", help="le binaire vigie (défaut : celui du PATH)")
    parser.add_argument("--screenshots", type=Path, help="dossier où écrire une capture de chaque page d'accueil")
    parser.add_argument("--selftest", action="store_true", help="seulement l'auto-test des vérifications")
    parser.add_argument("--oidc", action="store_true", help="la console connecte par OIDC : le scénario de connexion OIDC seul")
    args = parser.parse_args()
    if not args.selftest and not (args.console and args.grpc):
        parser.error("--console et --grpc sont nécessaires (ou --selftest)")

    report = Report()
    axe = tools.axe_source()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=tools.chromium(), headless=True)
        print(f"Chromium {browser.version} ({tools.chromium()}), axe-core {tools.AXE_VERSION}", file=sys.stderr)
        selftest.run(browser, axe, report)
        if not args.selftest:
            console = scenarios.Console(
                url=args.console.rstrip("/"), grpc=args.grpc, vigie=args.vigie, browser=browser,
                checker=PageChecker(report, axe), report=report, screenshots=args.screenshots,
            )
            if args.oidc:
                run_oidc(console)
            else:
                run_scenarios(console)
        browser.close()
    print(report.summary())
    return 1 if report.failures else 0


def run_scenarios(console: scenarios.Console) -> None:
    """Runs each scenario; one that breaks is a failure, the others still run."""
    profiles: list[scenarios.Profile] = []
    for name, scenario in [
        ("connexion", lambda: profiles.extend(scenarios.connexion(console))),
        ("pages d'accueil", lambda: scenarios.home_pages(console, profiles)),
        ("direction", lambda: scenarios.director(console, profiles)),
        ("conseiller numérique", lambda: scenarios.facilitator(console, profiles)),
        ("formation", lambda: scenarios.trainer(console, profiles)),
        ("niveaux", lambda: scenarios.director_levels(console, profiles)),
        ("subventions", lambda: scenarios.director_grants(console, profiles)),
        ("coordination", lambda: scenarios.coordinator(console, profiles)),
        ("import (coordination)", lambda: scenarios.coordinator_import(console, profiles)),
        ("import des subventions", lambda: scenarios.coordinator_grants_import(console, profiles)),
    ]:
        try:
            scenario()
        except Exception:  # noqa: BLE001 — reported, and the run fails
            console.report.fail(f"scénario {name}", "s'est interrompu", traceback.format_exc())


def run_oidc(console: scenarios.Console) -> None:
    """The OIDC sign-in and sign-out (tests/browser/oidc.py)."""
    try:
        oidc.sign_in_and_out(console)
    except Exception:  # noqa: BLE001 — reported, and the run fails
        console.report.fail("scénario OIDC", "s'est interrompu", traceback.format_exc())


if __name__ == "__main__":
    sys.exit(main())

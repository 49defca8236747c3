"""The checks can fail: each one is run on a page with exactly the fault it
must catch, served over HTTP with the console's Content-Security-Policy, and
on the faultless page, which must pass them all.

Run by run.py --selftest (and so by tests/e2e/console_browser.rs) before the
console itself is tested, so a green run means "checked", not "nothing looked".
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import Browser

from checks import PageChecker
from report import Report

FIXTURES = Path(__file__).parent / "fixtures"

# The console's policy (services/console/src/web.rs): no script at all.
CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

# page → (text of good.html replaced, replacement, check that must fail).
FAULTS = {
    "axe-violation.html": ('<button type="submit">Envoyer</button>', '<button type="submit"></button>', "axe-core"),
    "invalid-html.html": ("<h1>Page correcte</h1>", "<h1>Page correcte</h2>", "HTML conforme"),
    "duplicate-id.html": ('<label for="choix">', '<p id="nom">double</p>\n<label for="choix">', "HTML conforme"),
    "unreachable.html": (
        "<p>Une page",
        '<div inert><a href="other.html">inaccessible au clavier</a></div>\n<p>Une page',
        "clavier : Tab atteint",
    ),
    "focus-invisible.html": ('<button type="submit">', '<button type="submit" class="no-ring">', "clavier : le focus est visible"),
    "csp-violation.html": ("</main>", "</main>\n<script>document.title = 'inline';</script>", "console du navigateur"),
}


def pages() -> dict[str, str]:
    good = (FIXTURES / "good.html").read_text(encoding="utf-8")
    served = {"good.html": good}
    for name, (old, new, _) in FAULTS.items():
        assert old in good, f"{name}: good.html no longer contains {old!r}"
        served[name] = good.replace(old, new, 1)
    return served


def serve() -> ThreadingHTTPServer:
    served = pages()
    css = (FIXTURES / "style.css").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            name = self.path.lstrip("/")
            body, kind = (css, "text/css") if name == "style.css" else (served.get(name, "").encode(), "text/html; charset=utf-8")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Security-Policy", CSP)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(browser: Browser, axe_source: str, outer: Report) -> None:
    """Adds one line per fixture page to `outer`: the expected outcome or not."""
    server = serve()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for name in ["good.html", *FAULTS]:
            report = Report(echo=False)
            context = browser.new_context()
            page = context.new_page()
            checker = PageChecker(report, axe_source)
            checker.watch(page)
            response = page.goto(f"{base}/{name}")
            checker.check(page, name, response)
            context.close()
            failed = [f.check for f in report.failures]
            where = f"auto-test {name}"
            if name == "good.html":
                outer.expect(not failed, where, "la page sans faute passe toutes les vérifications", report.summary())
            else:
                expected = FAULTS[name][2]
                outer.expect(
                    any(check.startswith(expected) for check in failed), where, f"la faute est vue par « {expected} »",
                    f"vérifications en échec : {failed or 'aucune'}",
                )
    finally:
        server.shutdown()

"""The checks every visited page goes through.

- axe-core (WCAG 2.1 A and AA rules): no violation. The console's
  Content-Security-Policy allows no script at all, so axe is not added as a
  <script> tag: its text is evaluated through the DevTools protocol
  (`page.evaluate`), which a page's CSP does not govern. The page is thus
  audited as the person sees it, in the same context, with the CSP on.
- The HTML the server sent is conforming (html_check.py).
- Keyboard only: every link, button and field can be reached with Tab from
  the top of the page, and each one shows where the focus is (an outline or a
  box shadow, in the viewport) when it has it.
- No error in the browser console: a CSP violation (an inline script or
  style slipped into a template) shows up there.
"""

from __future__ import annotations

import json

from playwright.sync_api import Page, Response

import html_check
from report import Report

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Everything a person can act on with the keyboard; filtered below to what is
# rendered and in the tab order.
FOCUSABLE_JS = """
() => {
  const selector = 'a[href], button, input, select, textarea, summary, [tabindex], [contenteditable="true"]';
  const rendered = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const items = [...document.querySelectorAll(selector)].filter(
    (e) => !e.disabled && e.tabIndex >= 0 && !(e.tagName === 'INPUT' && e.type === 'hidden') && rendered(e));
  window.__vigieFocusables = items;
  return items.map((e) => {
    const text = (e.innerText || e.value || e.getAttribute('aria-label') || e.name || e.id || '').trim().replace(/\\s+/g, ' ');
    return `<${e.tagName.toLowerCase()}> « ${text.slice(0, 80)} »`;
  });
}
"""

# Where the focus is, and whether it shows.
FOCUS_JS = """
() => {
  const e = document.activeElement;
  if (!e || e === document.body) return {index: -1, body: true};
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  const shadow = !!s.boxShadow && s.boxShadow !== 'none';
  const r = e.getBoundingClientRect();
  const inView = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
    && r.top < window.innerHeight && r.left < window.innerWidth;
  return {index: window.__vigieFocusables.indexOf(e), body: false, outline, shadow, inView,
          tag: e.tagName.toLowerCase(), style: `outline: ${s.outlineStyle} ${s.outlineWidth}; box-shadow: ${s.boxShadow}`};
}
"""

AXE_RUN_JS = """
async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({target: n.target.join(' '), summary: n.failureSummary})),
    count: v.nodes.length,
  }));
}
"""


class PageChecker:
    """Runs every check on a page and writes the outcome to the report."""

    def __init__(self, report: Report, axe_source: str):
        self.report = report
        self.axe_source = axe_source
        self.console_errors: dict[int, list[str]] = {}

    def watch(self, page: Page) -> None:
        """Records the console errors of `page` (call once, right after creating it)."""
        errors = self.console_errors.setdefault(id(page), [])

        def on_console(message) -> None:
            # A browser asks for /favicon.ico by itself, and logs a 404 page's
            # own status (the "introuvable" page is one on purpose): neither is a
            # fault of the page. A missing stylesheet or a blocked script is.
            url = message.location.get("url", "")
            own_status = message.text.startswith("Failed to load resource") and url == page.url
            if message.type == "error" and not url.endswith("/favicon.ico") and not own_status:
                errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(str(error)))

    def check(self, page: Page, where: str, response: Response | None) -> None:
        """All the checks on the page as it is now (just after a navigation:
        the keyboard walk starts from the top)."""
        self.keyboard(page, where)
        self.axe(page, where)
        self.html(page, where, response)
        self.console(page, where)

    def keyboard(self, page: Page, where: str) -> None:
        targets: list[str] = page.evaluate(FOCUSABLE_JS)
        reached: set[int] = set()
        invisible: list[str] = []
        # Each Tab moves to the next element; past the last one focus leaves
        # the page, so a few more presses than elements are enough to see all.
        for _ in range(len(targets) + 3):
            if len(reached) == len(targets):
                break
            page.keyboard.press("Tab")
            focus = page.evaluate(FOCUS_JS)
            if focus["body"] or focus["index"] < 0 or focus["index"] in reached:
                continue
            reached.add(focus["index"])
            if not ((focus["outline"] or focus["shadow"]) and focus["inView"]):
                invisible.append(f"{targets[focus['index']]} ({focus['style']}, dans la fenêtre : {focus['inView']})")
        missed = [t for i, t in enumerate(targets) if i not in reached]
        self.report.expect(
            not missed and bool(targets), where, f"clavier : Tab atteint les {len(targets)} éléments actifs",
            "jamais atteints : " + "; ".join(missed) if missed else "aucun élément actif sur la page",
        )
        self.report.expect(
            not invisible, where, "clavier : le focus est visible sur chaque élément",
            "focus invisible :\n" + "\n".join(invisible),
        )

    def axe(self, page: Page, where: str) -> None:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.axe_source)
        violations = page.evaluate(AXE_RUN_JS, AXE_TAGS)
        details = []
        for v in violations:
            details.append(f"{v['id']} ({v['impact']}, {v['count']} élément(s)) : {v['help']}")
            for node in v["nodes"]:
                details.append(f"  {node['target']} — {node['summary']}".replace("\n", " "))
        self.report.expect(not violations, where, "axe-core (WCAG 2.1 A/AA) : aucune violation", "\n".join(details))

    def html(self, page: Page, where: str, response: Response | None) -> None:
        source = response.text() if response is not None else page.context.request.get(page.url).text()
        found = html_check.problems(source)
        self.report.expect(not found, where, "HTML conforme", "\n".join(found))

    def console(self, page: Page, where: str) -> None:
        errors = self.console_errors.get(id(page), [])
        self.report.expect(not errors, where, "console du navigateur sans erreur (CSP comprise)", json.dumps(errors, ensure_ascii=False))
        errors.clear()

"""What the run found: every failure with the page and the check it comes
from, printed as one report at the end so a single run shows all of them."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass
class Failure:
    where: str
    check: str
    detail: str


@dataclass
class Report:
    failures: list[Failure] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    # Whether each outcome is printed as it comes (not for the self-test's
    # inner reports, whose failures are expected).
    echo: bool = True

    def fail(self, where: str, check: str, detail: str) -> None:
        self.failures.append(Failure(where, check, detail))
        if self.echo:
            print(f"ÉCHEC  {where} — {check} : {detail.splitlines()[0] if detail else ''}", file=sys.stderr, flush=True)

    def ok(self, where: str, check: str) -> None:
        self.passed.append(f"{where} — {check}")
        if self.echo:
            print(f"ok     {where} — {check}", file=sys.stderr, flush=True)

    def expect(self, condition: bool, where: str, check: str, detail: str) -> bool:
        """Records `check` as passed or failed; returns the condition."""
        if condition:
            self.ok(where, check)
        else:
            self.fail(where, check, detail)
        return condition

    def summary(self) -> str:
        lines = []
        if self.failures:
            lines.append(f"{len(self.failures)} vérification(s) en échec :")
            for f in self.failures:
                lines.append(f"- {f.where} — {f.check}")
                lines.extend(f"    {line}" for line in f.detail.splitlines())
        # The plain closing line test runners are read for.
        lines.append(f"{len(self.passed)} passed, {len(self.failures)} failed")
        return "\n".join(lines)

"""Where the browser tools are: the system Chromium and the vendored axe-core.

Nothing is downloaded here. scripts/test.sh installs Debian's `chromium`,
Playwright for Python (PyPI) and axe-core (npm, unpacked into a cache
directory); Playwright's own browser download (`playwright install`) is never
used, the system Chromium is driven through `executable_path`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

AXE_VERSION = "4.14.1"


def cache_dir() -> Path:
    """The cache shared with scripts/test.sh (VIGIE_BROWSER_TOOLS)."""
    if os.environ.get("VIGIE_BROWSER_TOOLS"):
        return Path(os.environ["VIGIE_BROWSER_TOOLS"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.environ.get("HOME", "/tmp"), ".cache")
    return Path(base) / "vigie-browser-tools"


def chromium() -> str:
    """The Chromium binary: VIGIE_CHROMIUM, else Debian's."""
    explicit = os.environ.get("VIGIE_CHROMIUM")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise SystemExit(f"VIGIE_CHROMIUM={explicit} n'est pas un exécutable")
        return explicit
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("Chromium introuvable : lancez scripts/test.sh (paquet Debian chromium) ou définissez VIGIE_CHROMIUM")


def axe_source() -> str:
    """The text of axe.min.js: VIGIE_AXE_JS, else the vendored copy."""
    path = Path(os.environ.get("VIGIE_AXE_JS") or cache_dir() / f"axe-core-{AXE_VERSION}" / "axe.min.js")
    if not path.is_file():
        raise SystemExit(f"axe-core introuvable ({path}) : lancez scripts/test.sh, qui l'installe depuis npm")
    return path.read_text(encoding="utf-8")

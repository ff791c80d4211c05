"""Headless Chromium for the report tests: Debian's chromium driven by Playwright, or a skip that says why."""

from __future__ import annotations

import os
import shutil

CHROMIUM = os.environ.get("AOAI_AUDIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def why_unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM:
        return "no chromium binary (apt-get install chromium, or set AOAI_AUDIT_CHROMIUM)"
    return None


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)

"""Shared helpers: run the real engine (sources → resolve → checks) on fixture paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import tree_guard

ROOT = Path(__file__).resolve().parent.parent
# Before anything of aoai_audit is imported: the suite tests this tree or nothing (tests/tree_guard.py).
STALE = tree_guard.check(ROOT)
if STALE is None:  # else pytest_configure stops the run before a test could use these
    from aoai_audit.config import Settings
    from aoai_audit.engine import AuditResult, run_audit
    from aoai_audit.report.formats import FORMATS
    from aoai_audit.rules import Registry, load_registry
    from aoai_audit.sources.detect import load_paths


def pytest_configure(config: pytest.Config) -> None:
    if STALE is not None:
        raise pytest.UsageError(STALE)

FIXTURES = ROOT / "tests" / "fixtures"
RULE_FIXTURES = FIXTURES / "rules"
EXAMPLE = ROOT / "fixtures" / "example" / "contoso-apim"
# Real public policies and IaC (MIT; sources, commits and licences in tests/fixtures/corpus/SOURCES.md, licences/)
CORPUS = FIXTURES / "corpus"
# Every output format a scan writes without usage (the FOCUS export needs usage): a new format is in every test of
# what leaves the tool (secrets, escaping) without being named there.
SCAN_FORMATS = tuple(sorted(set(FORMATS) - {"focus"})) if STALE is None else ()


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


def audit(paths, registry: Registry | None = None, **settings) -> AuditResult:
    """Audit paths (relative to the repo root) with the installed rules."""
    paths = [str(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        estate = load_paths(paths)
    finally:
        os.chdir(cwd)
    return run_audit(estate, registry or load_registry(), Settings(**settings))


def keyed(result: AuditResult, rule_id: str | None = None) -> set[tuple[str, str]]:
    return {(f.rule_id, f.resource) for f in result.findings if rule_id is None or f.rule_id == rule_id}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that drives Chromium (it uses the `browser` fixture) is a `browser` test, so `-m browser` selects
    exactly those; tests/test_markers.py checks this against the modules that import the Chromium helper."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's package) driven by Playwright, one per test module that asks for it."""
    from playwright.sync_api import sync_playwright

    from browser import launch

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()

"""Markers select what they name: `-m browser` exactly the tests that drive Chromium, every declared marker
at least one test, and pytest always says why a test was skipped."""

from __future__ import annotations

import ast
import functools
import os
import subprocess
import sys

import pytest

from conftest import ROOT

TESTS = ROOT / "tests"


@functools.cache
def collect(*args: str) -> frozenset[str]:
    """Node ids pytest selects (a collection only, in a subprocess: this run's own selection does not matter)."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode in (0, 5), proc.stdout[-2000:] + proc.stderr[-2000:]  # 5: nothing selected
    return frozenset(line for line in proc.stdout.splitlines() if "::" in line)


def drives_chromium(path) -> bool:
    """A test module that imports the Chromium helper (tests/browser.py) drives Chromium."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "browser":
            return True
        if isinstance(node, ast.Import) and any(alias.name == "browser" for alias in node.names):
            return True
    return False


@pytest.mark.slow  # collects the suite in subprocesses
def test_browser_selects_exactly_the_tests_that_drive_chromium():
    modules = sorted(p for p in TESTS.glob("test_*.py") if drives_chromium(p))
    assert modules, "some test drives Chromium"
    rel = [p.relative_to(ROOT).as_posix() for p in modules]
    assert collect("-m", "browser") == collect(*rel) != frozenset()


@pytest.mark.slow  # collects the suite in subprocesses
def test_every_declared_marker_selects_a_test():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    assert declared
    for marker in (line.split(":", 1)[0].strip() for line in declared):
        assert collect("-m", marker), f"-m {marker} selects nothing"


def test_skip_reasons_are_always_reported(pytestconfig):
    addopts = " ".join(pytestconfig.getini("addopts")).split()
    assert any(opt.startswith("-r") and ("s" in opt[2:] or "a" in opt[2:]) for opt in addopts)

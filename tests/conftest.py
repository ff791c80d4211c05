"""Shared helpers: run the real engine (sources → resolve → checks) on fixture paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import AuditResult, run_audit
from aoai_audit.report.formats import FORMATS
from aoai_audit.rules import Registry, load_registry
from aoai_audit.sources.detect import load_paths

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
RULE_FIXTURES = FIXTURES / "rules"
EXAMPLE = ROOT / "fixtures" / "example" / "contoso-apim"
CORPUS = ROOT.parent / "shared" / "corpus"
# Every output format a scan writes without usage (the FOCUS export needs usage): a new format is in every test of
# what leaves the tool (secrets, escaping) without being named there.
SCAN_FORMATS = tuple(sorted(set(FORMATS) - {"focus"}))


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

"""Every file of the real-world corpus (tests/fixtures/corpus: public MIT files, sources and licences in its
SOURCES.md and licences/) is audited without an exception."""

from __future__ import annotations

import pytest

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.sources.detect import load_paths
from conftest import CORPUS

FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.md"
               and "licences" not in p.relative_to(CORPUS).parts)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_audits_without_exception(path, registry):
    result = run_audit(load_paths([str(path)]), registry, Settings())
    assert result.crashed == (), result.crashed
    if path.suffix == ".xml":
        # a policy file is read (parsed, or one AU002 with file and line)
        apis = [a for s in result.estate.services for a in s.apis] + [f for s in result.estate.services for f in s.fragments]
        assert apis, f"{path.name} produced nothing"
        for f in result.findings:
            if f.rule_id == "AU002":
                assert f.location.path and f.location.line
    elif path.suffix in (".bicep", ".tf"):
        assert [f.rule_id for f in result.findings] == ["AU002"]
        assert "not audited" in result.findings[0].message


def test_the_corpus_is_all_there():
    """Nothing here skips for want of its data: a missing corpus is a failure."""
    assert len(FILES) == 152 and sum(p.suffix == ".xml" for p in FILES) >= 72


def test_whole_corpus_in_one_run(registry):
    result = run_audit(load_paths([str(CORPUS)]), registry, Settings())
    assert result.ctx.llm_apis, "the corpus holds many LLM policies"
    assert result.crashed == (), result.crashed


def test_policy_parse_rate():
    """Most corpus policies are rawxml that a strict parser rejects; all but the truly broken must parse."""
    from aoai_audit.policy.rawxml import read_policy

    policies = [p for p in FILES if p.suffix == ".xml"]
    broken = [p.name for p in policies if read_policy(p.read_bytes(), scope="api").error]
    assert broken == ["ai-hub-gateway__infra__modules__apim__policies__frag-llm-usage.xml"]  # mismatched tags

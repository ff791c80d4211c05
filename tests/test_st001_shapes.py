"""ST001 on the C# shapes usage accounting is written in, each file scanned on its own (the pre-commit hook)."""

from __future__ import annotations

import re

import pytest

from conftest import FIXTURES, audit

SHAPES = FIXTURES / "st001_shapes"
FIRES = sorted((SHAPES / "fires").glob("*.xml"))
PASSES = sorted((SHAPES / "passes").glob("*.xml"))


@pytest.mark.parametrize("path", FIRES, ids=lambda p: p.stem)
def test_shape_fires_once_at_the_usage_read(path, registry):
    expected_line = int(re.search(r"ST001 line (\d+)", path.read_text()).group(1))
    result = audit(str(path), registry)
    found = [f for f in result.findings if f.rule_id == "ST001"]
    assert [(f.location.path.rsplit("/", 1)[-1], f.location.line) for f in found] == [(path.name, expected_line)]
    assert "streamed (text/event-stream)" in found[0].message
    # a file on its own is a statement-level audit: no "no LLM API found" gate failure on a fragment
    assert "AU003" not in {f.rule_id for f in result.findings}


@pytest.mark.parametrize("path", PASSES, ids=lambda p: p.stem)
def test_guarded_or_unrelated_shape_passes(path, registry):
    result = audit(str(path), registry, only=("ST001",))
    assert result.ctx.llm_apis  # not vacuous: the policy was judged as an LLM API's
    assert [f.message for f in result.findings] == []


def test_body_parsed_in_one_statement_names_where(registry):
    (finding,) = audit(str(SHAPES / "fires/two-statements.xml"), registry, only=("ST001",)).findings
    assert "parsed by <set-variable 'responseBody'>" in finding.message
    assert len(finding.evidence) == 2


def test_fragment_included_by_a_loose_policy_is_reported_once(registry, tmp_path):
    (tmp_path / "usage-log.xml").write_text((SHAPES / "fires/fragment.xml").read_text())
    (tmp_path / "chat.xml").write_text(
        '<policies><inbound><base /><set-backend-service base-url="https://x.openai.azure.com/openai" />'
        '</inbound><backend><base /></backend><outbound><base /><include-fragment fragment-id="usage-log" />'
        "</outbound><on-error><base /></on-error></policies>"
    )
    found = [f for f in audit(str(tmp_path), registry, only=("ST001",)).findings]
    assert len(found) == 1 and found[0].location.path.endswith("usage-log.xml")


def test_unincluded_fragment_in_an_estate_is_not_judged_alone(registry, tmp_path):
    """Over a whole estate a fragment counts where an LLM API includes it; the loose-file rule does not apply."""
    from aoai_audit.config import Settings
    from aoai_audit.engine import run_audit
    from aoai_audit.estate import CARRIES_APIS, SourceInfo
    from aoai_audit.sources.detect import load_paths

    (tmp_path / "usage-log.xml").write_text((SHAPES / "fires/fragment.xml").read_text())
    estate = load_paths([str(tmp_path)])
    assert estate.statement_level
    as_estate = estate.merge(type(estate)(sources=(SourceInfo("apiops", "x", frozenset({CARRIES_APIS})),)))
    assert not as_estate.statement_level
    assert run_audit(estate, registry, Settings(only=("ST001",))).findings
    assert not run_audit(as_estate, registry, Settings(only=("ST001",))).findings

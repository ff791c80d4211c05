"""Each policy rule: its `fires` fixture produces exactly the expected findings, its `passes` one none."""

from __future__ import annotations

import pytest

from conftest import ROOT, RULE_FIXTURES, audit

F = "tests/fixtures/rules"

# rule -> (expected (resource, location path, line) in fires/); a loose file's resource is its path from the
# project root (issue 24 item 9)
EXPECTED = {
    "TM001": {
        (f"service/files/apis/{F}/TM001/fires/chat", f"{F}/TM001/fires/chat.policy.xml", 2),
        (f"service/files/apis/{F}/TM001/fires/outbound-only", f"{F}/TM001/fires/outbound-only.policy.xml", 2),
    },
    "TM002": {(f"service/files/apis/{F}/TM002/fires/chat", f"{F}/TM002/fires/chat.policy.xml", 5)},
    "TM003": {(f"service/files/apis/{F}/TM003/fires/chat", f"{F}/TM003/fires/chat.policy.xml", 7)},
    "TM004": {(f"service/files/apis/{F}/TM004/fires/chat", f"{F}/TM004/fires/chat.policy.xml", 5)},
    "TM006": {(f"service/files/apis/{F}/TM006/fires/chat", f"{F}/TM006/fires/chat.policy.xml", 5)},
    "TM007": {("service/apim/apis/chat/operations/embeddings", f"{F}/TM007/fires/apim/apis/chat/operations/embeddings/policy.xml", 2)},
    "TM008": {("service/apim", f"{F}/TM008/fires/apim/diagnostics/applicationinsights/diagnosticInformation.json", None)},
    "TM009": {(f"service/files/apis/{F}/TM009/fires/chat", f"{F}/TM009/fires/chat.policy.xml", 7)},
    "TM010": {(f"service/files/apis/{F}/TM010/fires/chat", f"{F}/TM010/fires/chat.policy.xml", 8)},
    "AU003": {("estate", None, None)},
    "HD001": {(f"service/files/apis/{F}/HD001/fires/chat", f"{F}/HD001/fires/chat.policy.xml", 2)},
    "HD002": {("service/apim/apis/chat", f"{F}/HD002/fires/apim/apis/chat/apiInformation.json", None)},
    "HD003": {
        (f"service/files/apis/{F}/HD003/fires/chat", f"{F}/HD003/fires/chat.policy.xml", 10),
        (f"service/files/apis/{F}/HD003/fires/chat", f"{F}/HD003/fires/chat.policy.xml", 12),
    },
    "ST001": {(f"service/files/apis/{F}/ST001/fires/chat", f"{F}/ST001/fires/chat.policy.xml", 14)},
    "ST002": {
        (f"service/files/apis/{F}/ST002/fires/chat", f"{F}/ST002/fires/chat.policy.xml", 2),
        (f"service/files/apis/{F}/ST002/fires/include-usage", f"{F}/ST002/fires/include-usage.policy.xml", 2),
        (f"service/files/apis/{F}/ST002/fires/old-version", f"{F}/ST002/fires/old-version.policy.xml", 2),
    },
    "SEC001": {
        (f"service/files/apis/{F}/SEC001/fires/chat", f"{F}/SEC001/fires/chat.policy.xml", 9),
        (f"service/files/apis/{F}/SEC001/fires/chat", f"{F}/SEC001/fires/chat.policy.xml", 18),
    },
}


def located(result, rule_id):
    return {(f.resource, f.location.path, f.location.line) for f in result.findings if f.rule_id == rule_id}


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_rule_fires_exactly(rule_id, registry):
    result = audit(f"{F}/{rule_id}/fires", registry, only=(rule_id,))
    assert located(result, rule_id) == EXPECTED[rule_id]


@pytest.mark.parametrize("rule_id", sorted([*EXPECTED, "TM005", "AU002"]))
def test_rule_passes(rule_id, registry):
    result = audit(f"{F}/{rule_id}/passes", registry, only=(rule_id,))
    assert [f for f in result.findings if f.rule_id == rule_id] == []
    # not vacuous: the rule ran, on LLM APIs
    assert rule_id not in {n.rule.id for n in result.not_evaluated}
    assert not result.estate.gaps
    if rule_id != "AU003":
        assert result.ctx.llm_apis


def test_tm001_names_misplaced_metric(registry):
    result = audit(f"{F}/TM001/fires/outbound-only.policy.xml", registry, only=("TM001",))
    (finding,) = result.findings
    assert any("section, not inbound" in e for e in finding.evidence)


def test_tm003_names_header_and_bucket(registry):
    (finding,) = audit(f"{F}/TM003/fires", registry, only=("TM003",)).findings
    assert "x-team-id" in finding.message and "'unknown'" in finding.message


def test_tm005_reports_namespaces_and_spellings(registry):
    result = audit(f"{F}/TM005/fires", registry, only=("TM005",))
    messages = sorted(f.message for f in result.findings)
    assert len(messages) == 2
    assert any("2 namespaces" in m and "'AzureOpenAI'" in m and "'llm-usage'" in m for m in messages)
    assert any("'Team'" in m and "'team-id'" in m for m in messages)


def test_tm006_counts_every_dimension_element(registry, tmp_path):
    """llm-emit-token-metric docs: at most 5 dimensions per policy; default-named ones count too."""
    (finding,) = audit(f"{F}/TM006/fires", registry, only=("TM006",)).findings
    assert finding.message.startswith("token metric has 6 dimensions") and "4 of them default" in finding.message
    six_defaults = (ROOT / f"{F}/TM006/passes/chat.policy.xml").read_text().replace(
        '<dimension name="API ID" />', '<dimension name="API ID" /><dimension name="User ID" />'
    )
    (tmp_path / "chat.policy.xml").write_text(six_defaults)
    assert [f.rule_id for f in audit(str(tmp_path), registry, only=("TM006",)).findings] == ["TM006"]


def test_tm006_judges_a_fragment_file_on_its_own(registry, tmp_path):
    dims = "".join(f'<dimension name="d{i}" value="@(context.Api.Name)" />' for i in range(6))
    (tmp_path / "metric.xml").write_text(f'<fragment><llm-emit-token-metric namespace="x">{dims}'
                                         "</llm-emit-token-metric></fragment>")
    (finding,) = audit(str(tmp_path), registry, only=("TM006",)).findings
    assert finding.resource == "service/files/policyFragments/metric"


def test_tm008_passes_when_metrics_enabled_and_says_why_not(registry):
    (finding,) = audit(f"{F}/TM008/fires", registry, only=("TM008",)).findings
    assert "metrics not set (defaults to false)" in finding.message


def test_au002_reports_file_and_line_and_missing_fragment(registry):
    result = audit(f"{F}/AU002/fires", registry, only=("AU002",))
    got = {(f.location.path, f.location.line) for f in result.findings}
    assert (f"{F}/AU002/fires/broken.policy.xml", 7) in got
    assert (f"{F}/AU002/fires/missing-fragment.policy.xml", 5) in got
    broken = next(f for f in result.findings if f.location.path.endswith("broken.policy.xml"))
    assert "mismatch" in broken.message


def test_unparseable_policy_fails_closed(registry):
    """The broken policy had the only token metric: the audit must not assume it is there."""
    result = audit(f"{F}/AU002/fires/broken.policy.xml", registry)
    assert ("AU002", f"service/files/apis/{F}/AU002/fires/broken") in {(f.rule_id, f.resource) for f in result.findings}
    assert result.exit_code() in (1, 2)


def test_every_rule_has_fixture_dirs():
    for rule_id in EXPECTED:
        assert (RULE_FIXTURES / rule_id / "fires").is_dir()
        assert (RULE_FIXTURES / rule_id / "passes").is_dir()


def test_hd003_ignores_allowed_value_lists_but_not_identity_checks(registry):
    fired = audit(f"{F}/HD003/fires", registry, only=("HD003",))
    messages = sorted(f.message for f in fired.findings)
    assert "dimension 'Team' is taken from caller header 'x-team-id'" in messages[0]
    assert "forwarded header 'x-attribution-id' is taken from caller header 'x-app'" in messages[1]
    passes = audit(f"{F}/HD003/passes", registry, only=("HD003",))
    assert len(passes.ctx.llm_apis) == 3 and not passes.findings


def test_hd002_needs_api_metadata(registry):
    """Loose policy files do not say whether a subscription is required: not evaluated, not a pass."""
    result = audit(f"{F}/HD001/fires", registry, only=("HD002",))
    assert [n.rule.id for n in result.not_evaluated] == ["HD002"]


def test_st002_skips_operations_that_cannot_stream(registry, tmp_path):
    import shutil

    src = ROOT / f"{F}/HD002/passes/keyed/apim"
    shutil.copytree(src, tmp_path / "apim")
    ops = tmp_path / "apim/apis/chat/specification.yaml"
    ops.write_text(
        "openapi: 3.0.1\ninfo: {title: chat, version: '1'}\npaths:\n"
        "  /deployments/{id}/embeddings:\n    post: {operationId: embed}\n"
        "  /deployments/{id}/chat/completions:\n    post: {operationId: chat}\n"
    )
    result = audit(str(tmp_path / "apim"), registry, only=("ST002",))
    assert {f.resource for f in result.findings} == {"service/apim/apis/chat/operations/chat"}


def test_sec001_plain_named_value_is_flagged_and_redacted(registry, tmp_path):
    import json
    import shutil

    shutil.copytree(ROOT / f"{F}/SEC001/passes", tmp_path / "apim" / "apis" / "x", dirs_exist_ok=True)
    nv = tmp_path / "apim" / "named values" / "aoai-api-key"
    nv.mkdir(parents=True)
    secret = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    (nv / "namedValueInformation.json").write_text(
        json.dumps({"properties": {"displayName": "aoai-api-key", "secret": False, "value": secret}})
    )
    result = audit(str(tmp_path / "apim"), registry, only=("SEC001",))
    (finding,) = result.findings
    assert finding.resource == "service/apim/namedValues/aoai-api-key"
    assert "not marked secret" in finding.message
    (value,) = [n.value for s in result.estate.services for n in s.named_values]
    assert secret not in str(value) and secret not in repr(result.findings)

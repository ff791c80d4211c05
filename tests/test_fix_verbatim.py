"""TM001 where the estate's metric leaves no dimension bare: `aoai-audit fix` copies the estate's own statement word
for word (element, namespace, every dimension with its value), re-indented to the file it goes in, and the proof by
re-audit refuses a copy that brings a finding along (a variable set only in the source API: TM010; a caller header
nobody binds: TM003, HD003).

The estate is tests/fixtures/fix/explicit-dimensions (its README: which real file it follows). `tests/test_fix.py`
runs the full proof on it with every other APIOps estate: `git apply --check`, untouched bytes identical, no new
finding, a second run changes nothing."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.fix.metric_copy import not_portable
from aoai_audit.fix.run import run_fix
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.sources.detect import load_paths
from conftest import CORPUS, FIXTURES

ESTATE = FIXTURES / "fix" / "explicit-dimensions" / "apimartifacts"
LAB = CORPUS / "policies" / "ai-gateway__labs__token-metrics-emitting__policy.xml"
TARGET = "apis/embeddings/policy.xml"


def _copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(ESTATE, tmp_path / "apimartifacts"))


def _lab_dimensions() -> list[str]:
    """The dimension lines of the real lab's metric, without their indentation."""
    return [line.strip() for line in LAB.read_text().splitlines() if line.strip().startswith("<dimension ")]


def _fixed(plan, root: Path, rel: str) -> str:
    return next(t for p, t in plan.fixed.items() if Path(p).resolve() == (root / rel).resolve())


def _tm001(plan) -> list:
    return [a for a in plan.applied if a.repair.rule_id == "TM001"]


def test_copied_word_for_word_in_the_targets_indentation(tmp_path: Path, registry) -> None:
    apim = _copy(tmp_path)
    plan = run_fix([str(apim)], registry, Settings())
    (metric,) = _tm001(plan)
    assert metric.repair.target.endswith("/apis/embeddings")
    assert "word for word from" in metric.option.summary and "apis/openai/policy.xml:6" in metric.option.summary
    assert "aoai-audit-fix-" not in metric.option.summary, "the file as the user gave it, never the private copy"
    dims = "".join(f"            {d}\n" for d in _lab_dimensions())
    block = f'        <llm-emit-token-metric namespace="openai">\n{dims}        </llm-emit-token-metric>\n    </inbound>'
    assert block in _fixed(plan, apim, TARGET), "every dimension with its value, in the target's 4-space indentation"
    closed = {(r, res.rsplit("/", 1)[-1]) for r, res, *_ in plan.before - plan.after}
    assert closed == {("TM001", "embeddings"), ("TM004", "openai")}
    assert not plan.after - plan.before

    for path, text in plan.fixed.items():
        Path(path).write_text(text)
    after = run_audit(load_paths([str(apim)]), registry, Settings())
    assert not [f for f in after.findings if f.rule_id.startswith("TM")], "the estate is metered everywhere now"
    doc = read_policy((apim / TARGET).read_text(), scope="api").document
    metric_node = next(doc.section("inbound").find_all("llm-emit-token-metric"))  # type: ignore[union-attr]
    assert [(d.get("name"), d.get("value")) for d in metric_node.children] == [
        (m.group(1), m.group(2)) for m in (re.match(r'<dimension name="([^"]+)" value="(.*)" />', d)
                                           for d in _lab_dimensions()) if m]


def test_rule_alone_copies_the_legacy_metric_under_its_successor_name(tmp_path: Path, registry) -> None:
    """With only TM001 asked for, the source still holds the legacy element: the copy as written would bring TM004
    to the target, so the proof takes the next option, the same statement renamed as TM004's repair writes it."""
    apim = _copy(tmp_path)
    plan = run_fix([str(apim)], registry, Settings(), rules=["TM001"])
    (metric,) = _tm001(plan)
    assert "renamed to <llm-emit-token-metric>" in metric.option.summary
    fixed = _fixed(plan, apim, TARGET)
    assert "azure-openai-emit-token-metric" not in fixed and fixed.count("<dimension ") == 4
    assert [p for p in plan.fixed if not p.endswith(TARGET)] == [], "the source API is not touched"
    assert not plan.after - plan.before


def _add_team_dimension(apim: Path, set_in: str) -> None:
    """A `Team` dimension read from variable `team`, set in the policy `set_in` (relative to the extract)."""
    source = apim / "apis/openai/policy.xml"
    text = source.read_text().replace(
        '\t\t\t<dimension name="API ID"', '\t\t\t<dimension name="Team" value="@((string)context.Variables["team"])" />'
        '\n\t\t\t<dimension name="API ID"')
    source.write_text(text)
    setter = apim / set_in
    setter.write_text(setter.read_text().replace(
        "\t<inbound>\n", '\t<inbound>\n\t\t<set-variable name="team" value="@(context.Subscription.Name)" />\n', 1))


def test_copy_refused_when_its_variable_is_set_only_in_the_source_api(tmp_path: Path, registry) -> None:
    apim = _copy(tmp_path)
    _add_team_dimension(apim, "apis/openai/policy.xml")
    before = run_audit(load_paths([str(apim)]), registry, Settings())
    assert not [f for f in before.findings if f.rule_id == "TM010"], "in its own API the variable is set"
    plan = run_fix([str(apim)], registry, Settings())
    assert not _tm001(plan) and not any(p.endswith(TARGET) for p in plan.changed)
    (declined,) = [d for d in plan.declined if d.rule_id == "TM001"]
    assert declined.resource.endswith("/apis/embeddings")
    assert "not proven" in declined.reason and "TM010 on" in declined.reason and "embeddings" in declined.reason
    assert not plan.after - plan.before


def test_copy_kept_when_its_variable_is_set_in_a_scope_the_target_inherits(tmp_path: Path, registry) -> None:
    apim = _copy(tmp_path)
    _add_team_dimension(apim, "policy.xml")  # the global policy: every API inherits it through <base />
    plan = run_fix([str(apim)], registry, Settings())
    assert len(_tm001(plan)) == 1
    assert '<dimension name="Team" value="@((string)context.Variables["team"])" />' in _fixed(plan, apim, TARGET)
    assert not plan.after - plan.before


def test_the_lab_as_written_is_refused(tmp_path: Path, registry) -> None:
    """Without the global policy binding `x-user-id` to the caller (the lab does not), the copy would bring TM003
    and HD003 to the target: not proven, the file stays as it is."""
    apim = _copy(tmp_path)
    glob = apim / "policy.xml"
    glob.write_text(re.sub(r'\t\t<set-header name="x-user-id".*?</set-header>\n', "", glob.read_text(), flags=re.S))
    plan = run_fix([str(apim)], registry, Settings(), rules=["TM001"])
    assert not plan.changed
    (declined,) = [d for d in plan.declined if d.rule_id == "TM001"]
    assert "HD003 on" in declined.reason and "TM003 on" in declined.reason


def _metric(value: str):
    doc = read_policy(f'<policies><inbound><llm-emit-token-metric><dimension name="d" value="{value}" />'
                      "</llm-emit-token-metric></inbound></policies>", scope="api").document
    return next(doc.section("inbound").find_all("llm-emit-token-metric"))  # type: ignore[union-attr]


def test_only_values_every_call_has_are_offered() -> None:
    for fine in ("@(context.Subscription.Id)", "@(context.Request.IpAddress)", "@(context.Product?.Name)",
                 "@(context.Deployment.ServiceName)", "@(context.User.Email)", "@(context.Api.Id)",
                 "@((string)context.Variables[&quot;team&quot;])", "team-a", "{{team-name}}", "context"):
        assert not_portable(_metric(fine)) is None, fine
    for bad, why in (("@(context.Response.StatusCode.ToString())", "context.Response"),
                     ("@(context.LastError.Reason)", "context.LastError"),
                     ("@(Describe(context))", "bare context")):
        assert why in (not_portable(_metric(bad)) or ""), bad

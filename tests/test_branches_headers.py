"""Header rules (TM003, HD001) and the dimension limit (TM006) branch by branch, on what the finding names
(issue 29)."""

from __future__ import annotations

import pytest
from branch_policies import METRIC, findings, line_of, policy


def _team(header: str = "x-team-id", default: str = "") -> str:
    return ('<llm-emit-token-metric><dimension name="Team" value="@(context.Request.Headers.GetValueOrDefault('
            f'&quot;{header}&quot;, &quot;{default}&quot;))" /></llm-emit-token-metric>')


@pytest.mark.parametrize(("default", "bucket"), [("", "(recorded empty)"), ("N/A", "(recorded as 'N/A')")])
def test_tm003_unrequired_header_names_header_and_bucket(tmp_path, registry, default, bucket):
    path = policy(tmp_path, _team(default=default))
    (f,) = findings(path, registry, "TM003")
    assert "dimension 'Team' reads header 'x-team-id'" in f.message and f.message.endswith(bucket)
    assert f.location.line == line_of(path, "<llm-emit-token-metric")


@pytest.mark.parametrize("requires", [
    '<check-header name="X-Team-Id" failed-check-httpcode="400" failed-check-error-message="team" ignore-case="true" />',
    '<validate-headers specified-header-action="ignore" unspecified-header-action="ignore" />',
    '<set-header name="x-team-id" exists-action="skip"><value>none</value></set-header>',
    '<choose><when condition="@(!context.Request.Headers.ContainsKey(&quot;x-team-id&quot;))">'
    '<return-response><set-status code="400" /></return-response></when></choose>',
])
def test_tm003_a_required_or_defaulted_header_passes(tmp_path, registry, requires):
    assert findings(policy(tmp_path, requires + _team()), registry, "TM003") == []


def test_tm003_a_check_of_another_header_does_not_count(tmp_path, registry):
    other = '<check-header name="x-other" failed-check-httpcode="400" failed-check-error-message="o" ignore-case="true" />'
    (f,) = findings(policy(tmp_path, other + _team()), registry, "TM003")
    assert "header 'x-team-id'" in f.message


def test_tm003_a_header_the_gateway_sets_before_the_metric_is_not_the_callers(tmp_path, registry):
    set_it = '<set-header name="x-team-id" exists-action="override"><value>@(context.Subscription.Id)</value></set-header>'
    assert findings(policy(tmp_path, set_it + _team()), registry, "TM003") == []


# ---- HD001: an attribution header on the forwarded request, by name or by what it carries ---------------------------
@pytest.mark.parametrize("header", [
    '<set-header name="x-attribution-id" exists-action="override"><value>@(context.Subscription.Id)</value></set-header>',
    '<set-header name="x-caller" exists-action="override"><value>@(context.Subscription.Id)</value></set-header>',
])
def test_hd001_attribution_header_by_name_or_identity_passes(tmp_path, registry, header):
    assert findings(policy(tmp_path, METRIC + header), registry, "HD001") == []


def test_hd001_attribution_header_in_the_backend_section_passes(tmp_path, registry):
    header = '<set-header name="x-attribution-id" exists-action="override"><value>@(context.Subscription.Id)</value></set-header>'
    assert findings(policy(tmp_path, METRIC, backend=header), registry, "HD001") == []


@pytest.mark.parametrize("header", [
    '<set-header name="x-attribution-id" exists-action="delete" />',
    '<set-header name="x-other" exists-action="override"><value>static</value></set-header>',
])
def test_hd001_deleted_or_unrelated_header_fires_naming_the_api(tmp_path, registry, header):
    (f,) = findings(policy(tmp_path, METRIC + header), registry, "HD001")
    assert f.message.startswith("LLM API 'chat': no attribution header") and "for its calls" in f.message
    assert "attribution headers looked for: x-attribution-*, x-team*, x-cost-cent*" in "\n".join(f.evidence)


def test_hd001_outbound_header_is_not_forwarded(tmp_path, registry):
    header = '<set-header name="x-attribution-id" exists-action="override"><value>a</value></set-header>'
    assert len(findings(policy(tmp_path, METRIC, outbound=header), registry, "HD001")) == 1


# ---- TM006: at most five <dimension> elements, default ones included ------------------------------------------------
def _dims(*names: str) -> str:
    return "<llm-emit-token-metric>" + "".join(f'<dimension name="{n}" value="a" />' for n in names) + \
        "</llm-emit-token-metric>"


def test_tm006_five_dimensions_pass_and_six_fire_naming_each_and_the_defaults(tmp_path, registry):
    five = ("API ID", "Subscription ID", "A", "B", "C")
    assert findings(policy(tmp_path, _dims(*five)), registry, "TM006") == []
    path = policy(tmp_path, _dims(*five, "D"))
    (f,) = findings(path, registry, "TM006")
    assert f.message.startswith("token metric has 6 dimensions (API ID, Subscription ID, A, B, C, D), 2 of them "
                                "default dimensions; a policy can configure at most 5")


def test_tm006_without_default_dimensions_says_none_of_them(tmp_path, registry):
    (f,) = findings(policy(tmp_path, _dims("A", "B", "C", "D", "E", "F")), registry, "TM006")
    assert "(A, B, C, D, E, F); a policy" in f.message

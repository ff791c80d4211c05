"""HD rules branch by branch on an estate written here: the API named by its display name, every API judged
(not only the first), a caller header the gateway overrides or skips (issue 29)."""

from __future__ import annotations

import pytest
from branch_estates import METRIC, api, run

from aoai_audit.checks import hd001_no_attribution_header, hd002_anonymous_caller, hd003_spoofable_attribution
from aoai_audit.estate import Api
from aoai_audit.policy.rawxml import read_policy


def test_hd001_names_the_api_by_its_display_name_else_its_name():
    got = run(hd001_no_attribution_header, api("chat", "", display="Chat API"), api("embed", ""))
    assert [(r, m.split(":")[0]) for r, m in got] == [("service/apim/apis/chat", "LLM API 'Chat API'"),
                                                      ("service/apim/apis/embed", "LLM API 'embed'")]


def test_hd002_judges_every_api_that_requires_no_subscription():
    got = run(hd002_anonymous_caller, api("first", ""), api("open", "", display="Open API", subscription=False),
              api("unknown", "", subscription=None))
    assert [(r, m.split(":")[0]) for r, m in got] == [("service/apim/apis/open", "LLM API 'Open API'")]


@pytest.mark.parametrize(("before", "fires"), [
    ("", True),
    ('<set-header name="x-team" exists-action="override"><value>fixed</value></set-header>', False),
    ('<set-header name="X-Team" exists-action="delete" />', False),
    ('<set-header name="x-team" exists-action="skip"><value>fixed</value></set-header>', True),
    ('<set-header name="x-other" exists-action="override"><value>fixed</value></set-header>', True),
])
def test_hd003_a_caller_header_the_gateway_does_not_replace_before_it_is_read(before, fires):
    got = run(hd003_spoofable_attribution, api("chat", before + METRIC, display="Chat API"))
    expected = [("service/apim/apis/chat", "LLM API 'Chat API': dimension 'Team' is taken from caller header 'x-team' "
                                           "and never checked against the caller's identity; any caller can bill "
                                           "another team")]
    assert got == (expected if fires else [])


def test_tm001_names_the_api_by_its_display_name():
    from aoai_audit.checks import tm001_token_metric_missing

    got = run(tm001_token_metric_missing, api("chat", "", display="Chat API"), api("embed", ""))
    assert [(r, m.split(":")[0]) for r, m in got] == [("service/apim/apis/chat", "LLM API 'Chat API'"),
                                                      ("service/apim/apis/embed", "LLM API 'embed'")]


def test_sec001_names_each_policy_by_its_scope_and_skips_one_that_did_not_parse():
    from aoai_audit.checks import sec001_literal_secret

    key = '<set-header name="api-key" exists-action="override"><value>0123456789abcdef0123456789abcdef</value></set-header>'
    broken = Api("broken", policy=read_policy("<policies><inbound>", scope="api"))
    got = run(sec001_literal_secret, broken, api("chat", key))
    assert [(r, m.split(":")[0]) for r, m in got] == [("service/apim/apis/chat", "api 'chat'")]


def _metric(*dims: str, namespace: str = "") -> str:
    ns = f' namespace="{namespace}"' if namespace else ""
    return f"<llm-emit-token-metric{ns}>" + "".join(d for d in dims) + "</llm-emit-token-metric>"


def test_tm002_reports_each_api_whose_metric_names_no_caller_with_its_namespace():
    from aoai_audit.checks import tm002_no_consumer_dimension

    good = api("chat", _metric('<dimension name="Subscription ID" />'))
    bad = api("embed", _metric('<dimension name="API ID" />', '<dimension name="Location" />', namespace="ai"),
              display="Embeddings")
    plain = api("img", _metric('<dimension name="API ID" />'))
    assert run(tm002_no_consumer_dimension, good, bad, plain) == [
        ("service/apim/apis/embed", "LLM API 'Embeddings': the token metric (namespace 'ai') has dimensions API ID, "
                                    "Location, none of which identifies the caller; its tokens cannot be charged back "
                                    "to a team"),
        ("service/apim/apis/img", "LLM API 'img': the token metric (namespace 'API Management') has dimensions API ID, "
                                  "none of which identifies the caller; its tokens cannot be charged back to a team")]


def test_tm006_counts_dimensions_per_metric_and_names_them():
    from aoai_audit.checks import tm006_too_many_dimensions

    five = api("chat", _metric(*(f'<dimension name="d{i}" />' for i in range(1, 6))))
    six = api("embed", _metric('<dimension name="API ID" />', '<dimension name="Subscription ID" />',
                               *(f'<dimension name="d{i}" />' for i in range(1, 4)), "<dimension />"))
    assert run(tm006_too_many_dimensions, five, six) == [
        ("service/apim/apis/embed", "token metric has 6 dimensions (API ID, Subscription ID, d1, d2, d3, ?), 2 of them "
                                    "default dimensions; a policy can configure at most 5, the rest are lost")]


def test_tm005_namespaces_spellings_and_one_source_under_two_names_are_each_one_estate_finding():
    from aoai_audit.checks import tm005_inconsistent_dimensions

    team = '<dimension name="{}" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-team&quot;, &quot;&quot;))" />'
    got = run(tm005_inconsistent_dimensions,
              api("a", _metric(team.format("Team"), namespace="ai")),
              api("b", _metric(team.format("team_id"))),
              api("c", _metric(team.format("Dept"), '<dimension name="Cost" value="@(&quot;x&quot;)" />')),
              api("d", _metric('<dimension name="co" value="@(&quot;y&quot;)" />')))
    assert got == [
        ("estate", "token metrics are emitted into 2 namespaces: 'API Management' in b, c, d; 'ai' in a"),
        ("estate", "one dimension is spelled 2 ways: 'Team' in a; 'team_id' in b"),
        ("estate", "header x-team is published under different dimension names: 'Dept' in c; 'Team' in a; "
                   "'team_id' in b"),
    ]

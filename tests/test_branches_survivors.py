"""Behaviours the final mutation run (issue 29) showed untested: each test is written from RULES.md and the hand
figures in its fixture, asserting what a finding names or what a figure is, not which line was changed."""

from __future__ import annotations

import json
import shutil

from branch_policies import METRIC, findings, line_of, policy

from conftest import ROOT

ARCH = ROOT / "tests" / "fixtures" / "architectures"


# ---- ST001: the streaming guard is a variable the branch READS, and the message names where the body is parsed ---
def _log(expr: str) -> str:
    return f'<log-to-eventhub logger-id="usage-hub">@{{ {expr} }}</log-to-eventhub>'


_SSE_FLAG = ('<set-variable name="{name}" value="@(context.Request.Body.As&lt;JObject&gt;(true)'
             '[&quot;stream&quot;] != null)" />')
_PARSE = 'return context.Response.Body.As<JObject>(preserveContent: true)["usage"].ToString();'


def test_st001_a_branch_on_a_variable_holding_the_stream_flag_guards_the_parse(tmp_path, registry):
    """The variable's name says nothing of streams (`sse`): its value does, and the <when> reads it."""
    guarded = ('<choose><when condition="@((bool)context.Variables[&quot;sse&quot;])" /><otherwise>'
               + _log(_PARSE) + "</otherwise></choose>")
    assert findings(policy(tmp_path, METRIC + _SSE_FLAG.format(name="sse"), outbound=guarded), registry, "ST001") == []


def test_st001_a_stream_flag_the_parse_does_not_read_guards_nothing(tmp_path, registry):
    """A stream flag in a variable named `s` is not read by the parse just because the parse's text contains an
    's' (`usage`, `Response`): the parse is unguarded and fires, with no mention of another statement."""
    path = policy(tmp_path, METRIC + _SSE_FLAG.format(name="s"), outbound=_log(_PARSE))
    (f,) = findings(path, registry, "ST001")
    assert f.location.line == line_of(path, "usage-hub")
    assert "<log-to-eventhub> reads usage from the response body parsed as JSON with no branch for streamed" in f.message


def test_st001_an_unrelated_variable_with_a_stream_flag_guards_nothing(tmp_path, registry):
    guarded_elsewhere = ('<choose><when condition="@((bool)context.Variables[&quot;other&quot;])" /><otherwise>'
                         + _log(_PARSE) + "</otherwise></choose>")
    path = policy(tmp_path, METRIC + _SSE_FLAG.format(name="sse"), outbound=guarded_elsewhere)
    (f,) = findings(path, registry, "ST001")
    assert f.location.line == line_of(path, "usage-hub")


# ---- KQ002: a consumer paid by its resource is skipped, and the consumers after it are still judged --------------
def test_kq002_names_gateway_consumers_listed_after_one_attributed_by_resource(tmp_path):
    """mixed (README): acct-alpha is team alpha's by tag. A gateway consumer on it, larger than gamma and delta
    (so listed first), is paid by the resource; gamma and delta, at the shared gateway, still need a mapping."""
    from test_architectures import scan

    target = tmp_path / "mixed"
    shutil.copytree(ARCH / "mixed", target)
    with (target / "usage.csv").open("a") as out:
        out.write("2026-11-01,gateway,Subscription ID,alpha-app,apim-shared,chat,gpt-4o-mini,2024-07-18,chat,"
                  "acct-alpha,token-metrics,3500000,0\n")
    (target / "cost-centres.yaml").write_text("cost_centres:\n  - consumer: someone-else\n    cost_centre: CC-9\n")
    doc = json.loads(scan(target)[1])
    named = {f["message"].split("'")[1] for f in doc["findings"] if f["rule_id"] == "KQ002"}
    assert named == {"gamma", "delta"}

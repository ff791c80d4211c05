"""ST002: streamed calls are metered by estimate because nobody asks for real usage."""

from __future__ import annotations

import re

from aoai_audit.analysis import walk
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

from . import _refs
from ._support import chain_summary, group_failures, ops_label

RULE = Rule(
    id="ST002",
    title="Streamed usage is estimated, not reported",
    severity=Severity.MEDIUM,
    rationale=(
        "When a request sets `stream: true`, the token-metric policies estimate the tokens instead of reading "
        "them from the response, and the backend reports real usage only if the request asks for it "
        "(`stream_options.include_usage`). Chargeback for streamed traffic is then approximate and cannot be "
        "reconciled per call with the platform's own token counts."
    ),
    detection=(
        "An LLM API with operations that can stream (chat/completions, completions, responses, messages, or a "
        "wildcard operation; embeddings, images and audio cannot) whose effective inbound and backend policies "
        "never mention `include_usage` and do not refuse streamed requests (a `<when>` on `stream` that returns "
        "a response)."
    ),
    fix="Ask the backend for the usage chunk on streamed requests (clients may also send it themselves).",
    fix_snippet="""<choose>
    <when condition="@(context.Request.Body.As<JObject>(preserveContent: true).Value<bool?>("stream") == true)">
        <set-body>@{
            var body = context.Request.Body.As<JObject>(preserveContent: true);
            body["stream_options"] = new JObject(new JProperty("include_usage", true));
            return body.ToString();
        }</set-body>
    </when>
</choose>""",
    references=(_refs.LLM_EMIT_TOKEN_METRIC, _refs.SET_BODY, _refs.AOAI_STREAM_OPTIONS),
    requires=frozenset({CARRIES_POLICIES}),
)

_CANNOT_STREAM = re.compile(r"(^|/)(embeddings|images/generations|audio/(transcriptions|translations|speech))(/|$|\?)", re.I)
_INCLUDE_USAGE = re.compile(r"include_usage", re.I)
_STREAM = re.compile(r"stream", re.I)


def _can_stream(url_templates: list[str]) -> bool:
    """Unknown operations are taken as able to stream; only known non-streaming endpoints are not."""
    return not url_templates or any(not _CANNOT_STREAM.search(u) for u in url_templates)


def _asks_or_refuses(nodes: tuple) -> bool:
    for node, path in walk(nodes):
        if any(_INCLUDE_USAGE.search(v) for _k, v in node.attrs) or _INCLUDE_USAGE.search(node.text):
            return True
        if node.tag == "return-response" and any(
            p.tag == "when" and _STREAM.search(p.get("condition") or "") for p in path
        ):
            return True
    return False


def check(ctx: AuditContext):
    for view in ctx.llm_apis:
        ops = {op.name: op.url_template for op in view.api.operations}
        estimated = []
        for ep in view.effective:
            urls = [ops.get(ep.operation) or ""] if ep.operation else list(view.api.spec_paths)
            if not _can_stream([u for u in urls if u]):
                continue
            if _asks_or_refuses(ep.sections.get("inbound", ()) + ep.sections.get("backend", ())):
                continue
            estimated.append(ep)
        for group in group_failures(view, estimated):
            what = "its streamed calls" if group.whole_api else f"streamed calls to {ops_label(group.eps)}"
            yield RULE.finding(
                group.resource,
                f"LLM API '{view.api.display_name or view.api.name}': nothing asks the backend for usage "
                f"(stream_options.include_usage) on {what}{group.how}; their tokens are estimated by the gateway",
                location=ctx.location(group.origin),
                evidence=[chain_summary(group.eps[0])],
                context=group.context,
            )

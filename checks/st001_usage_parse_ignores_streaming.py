"""ST001: hand-written usage accounting that parses the response as one JSON document."""

from __future__ import annotations

import re

from aoai_audit.analysis import assignments_before, walk
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

from . import _refs
from ._support import element_evidence

RULE = Rule(
    id="ST001",
    title="Usage read from the response body ignores streaming",
    severity=Severity.HIGH,
    rationale=(
        "A streamed completion (`stream: true`) answers with `text/event-stream`: a series of `data:` chunks, "
        "with usage, if any, only in the last one. An expression that parses `context.Response.Body` as one JSON "
        "document to read `usage` throws or finds nothing on those calls, so streamed tokens vanish from the "
        "custom accounting (or the policy fails the call)."
    ),
    detection=(
        "In the effective policy of each LLM API, any statement (`log-to-eventhub`, `emit-metric`, `set-variable`, "
        "`set-body`, ...) whose expression reads `context.Response.Body` as JSON (`As<JObject>`, `As<JToken>`, "
        "`JObject.Parse`) and mentions `usage`, with no sign of stream handling in the expression or in an "
        "enclosing `<when>` condition (a test for `text/event-stream` or the request's `stream` flag, directly "
        "or through a variable)."
    ),
    fix="Branch on the content type and parse the last `data:` chunk for streamed responses.",
    fix_snippet="""<choose>
    <when condition="@(context.Response.Headers.GetValueOrDefault("Content-Type", "").Contains("text/event-stream"))">
        <!-- streamed: usage is in the last data: chunk (ask for it with stream_options.include_usage) -->
        <log-to-eventhub logger-id="usage-hub">@{
            var chunks = context.Response.Body.As<string>(preserveContent: true)
                .Split(new[] { "\\n\\n" }, StringSplitOptions.RemoveEmptyEntries);
            var last = chunks.Where(c => c.StartsWith("data: {")).LastOrDefault();
            var usage = last == null ? null : JObject.Parse(last.Substring(6))["usage"];
            return new JObject(new JProperty("tokens", usage?["total_tokens"])).ToString();
        }</log-to-eventhub>
    </when>
    <otherwise>
        <!-- the non-streamed JSON parse goes here -->
    </otherwise>
</choose>""",
    references=(_refs.LOG_TO_EVENTHUB, _refs.EMIT_METRIC, _refs.EXPRESSIONS, _refs.AOAI_STREAM_OPTIONS),
    requires=frozenset({CARRIES_POLICIES}),
)

_BODY_AS_JSON = re.compile(
    r"Response\s*\.\s*Body\s*\.\s*As\s*<\s*(?:JObject|JToken|JArray)\s*>|JObject\s*\.\s*Parse\s*\([^;]*Response\s*\.\s*Body",
    re.I,
)
_USAGE = re.compile(r"usage", re.I)
_STREAM = re.compile(r"stream", re.I)


def _expressions(node) -> list[str]:
    texts = [v for k, v in node.attrs if v.lstrip().startswith("@")]
    if node.text.lstrip().startswith("@"):
        texts.append(node.text)
    return texts


def _guarded(path, text: str, assignments: dict[str, list[str]]) -> bool:
    """The expression, or a <when> around it, looks at streaming (also via a variable it reads)."""
    candidates = [text] + [p.get("condition") or "" for p in path if p.tag == "when"]
    for candidate in candidates:
        if _STREAM.search(candidate):
            return True
        for name, values in assignments.items():
            if name in candidate and any(_STREAM.search(v) for v in values):
                return True
    return False


def check(ctx: AuditContext):
    reported: set[int] = set()
    for view in ctx.llm_apis:
        for ep in view.effective:
            everything = tuple(n for section in ep.sections.values() for n in section)
            assignments = assignments_before(everything, None)
            for node, path in walk(everything):
                if id(node) in reported:
                    continue
                for text in _expressions(node):
                    if not (_BODY_AS_JSON.search(text) and _USAGE.search(text)):
                        continue
                    if _guarded(path, text, assignments):
                        continue
                    reported.add(id(node))
                    yield RULE.finding(
                        view.resource,
                        f"LLM API '{view.api.display_name or view.api.name}': <{node.tag}> reads usage by parsing "
                        "the response body as JSON with no branch for streamed (text/event-stream) responses; "
                        "streamed calls are lost from this accounting or fail the policy",
                        location=ctx.location(node.origin),
                        evidence=[element_evidence(node)],
                        key=f"{node.tag}:{node.get('logger-id') or node.get('name') or ''}",
                    )
                    break

"""ST001: hand-written usage accounting that parses the response as one JSON document."""

from __future__ import annotations

import re

from aoai_audit.analysis import assignments_before, may_mention, read_expression, walk
from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.policy.tree import PolicyNode
from aoai_audit.rules import Rule

from . import _refs
from ._support import StatementScope, element_evidence, refuses_streaming, statement_scopes

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
        "Every statement is read in document order (`log-to-eventhub`, `emit-metric`, `set-variable`, "
        "`cache-store-value`, `set-body`, `trace`, dimension values, ...). A statement reads the response body as "
        "JSON when its expression has `context.Response.Body.As<JObject|JToken|JArray>(...)` (also the "
        "null-conditional `Body?.As<JObject>(true)` and `preserveContent: true` forms), or parses the body text "
        "(`Body.As<string>(...)`) with `JObject.Parse`, `JToken.Parse` or `JsonConvert.DeserializeObject`. The "
        "body may pass through variables: a `set-variable` that holds the parsed body (or its text) carries it to "
        "the statements that read that variable. ST001 fires on the first statement that reads `usage` from such "
        "a parse when neither the statements involved nor an enclosing `<when>` look at streaming (a test for "
        "`text/event-stream` or the request's `stream` flag, directly or through a variable), and the policy does "
        "not refuse streamed requests. Checked in the effective policy of every LLM API and, when loose policy or "
        "fragment files are scanned on their own, in each file as written."
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

# The shapes people write (checked against public chargeback samples): `Body.As<JObject>()`,
# `Body?.As<JObject>(true)`, `Body.As<JObject>(preserveContent: true)`, `JObject.Parse(Body.As<string>(...))`,
# `JsonConvert.DeserializeObject(...)`, with the parsed body kept in a variable for later statements.
# Policy expressions: https://learn.microsoft.com/azure/api-management/api-management-policy-expressions
# `\s*(?:\?\s*)?` and not `\s*\??\s*`: two stars around an optional mark split a run of spaces every way
_RESPONSE_BODY_AS = r"Response\s*(?:\?\s*)?\.\s*Body\s*(?:\?\s*)?\.\s*As\s*<\s*"
_BODY_AS_JSON = re.compile(_RESPONSE_BODY_AS + r"(?:Newtonsoft\.Json\.Linq\.)?(?:JObject|JToken|JArray)\s*>", re.I)
_BODY_AS_TEXT = re.compile(_RESPONSE_BODY_AS + r"(?:System\.)?string\s*>", re.I)
_PARSE = re.compile(
    r"\b(?:JObject|JToken|JArray)\s*\.\s*(?:Parse|FromObject)\s*\(|\bJsonConvert\s*\.\s*DeserializeObject\b", re.I
)
_USAGE = re.compile(r"usage", re.I)
_STREAM = re.compile(r"stream", re.I)
_JSON, _TEXT = "json", "text"


def _expressions(node) -> list[str]:
    texts = [v for _k, v in node.attrs if "@(" in v or "@{" in v]
    if node.text.lstrip().startswith("@"):
        texts.append(node.text)
    return texts


def _guarded(path, text: str, assignments: dict[str, list[str]]) -> bool:
    """The expression, or a branch condition that decides whether it runs, looks at streaming (also via a
    variable it reads)."""
    # a <when> around it, or any <when> of an enclosing <choose>: an <otherwise> (or a later <when>) runs only
    # when the branches before it did not, so a sibling branch for streams guards it too
    candidates = [text] + [
        c.get("condition") or "" for p in path if p.tag == "choose" for c in p.children if c.tag == "when"
    ] + [p.get("condition") or "" for p in path if p.tag == "when"]
    for candidate in candidates:
        if _STREAM.search(candidate):
            return True
        # the variables the text reads (context.Variables[...]), not any substring: a variable named `s` is not
        # read by every expression that contains the letter s
        for name in read_expression(candidate).variables:
            if any(_STREAM.search(v) for v in assignments.get(name, ())):
                return True
    return False


def _reads_body(text: str, carried: dict[str, tuple[str, PolicyNode]]) -> tuple[str, PolicyNode | None] | None:
    """(kind, the statement that read the body, or None for this one) when the expression reads the response
    body: as JSON, or as text not yet parsed."""
    if not carried and "Body" not in text:
        return None  # the common case, cheaply: nothing reads a response body here
    variables = read_expression(text).variables
    parses = bool(_PARSE.search(text))
    if _BODY_AS_JSON.search(text) or (parses and _BODY_AS_TEXT.search(text)):
        return _JSON, None
    for name in variables:
        kind, source = carried.get(name, ("", None))
        if kind == _JSON or (kind == _TEXT and parses):
            return _JSON, source
    if _BODY_AS_TEXT.search(text):
        return _TEXT, None
    for name in variables:
        if name in carried:
            return carried[name]
    return None


def _scan(scope: StatementScope) -> list[tuple[PolicyNode, PolicyNode, tuple[PolicyNode, ...]]]:
    """(statement reading usage, statement that read the body, path) for each unguarded parse, once per parse."""
    if not may_mention(scope.nodes, "response"):
        return []  # every read starts from an expression reading context.Response (see `_reads_body`)
    assignments = assignments_before(scope.nodes, None)
    carried: dict[str, tuple[str, PolicyNode]] = {}  # variable → (json/text, the statement that read the body)
    hits: dict[int, tuple[PolicyNode, PolicyNode, tuple[PolicyNode, ...]]] = {}
    for node, path in walk(scope.nodes):
        for text in _expressions(node):
            read = _reads_body(text, carried)
            if read is None or _guarded(path, text, assignments):
                continue
            kind, source = read
            source = source or node
            if node.tag == "set-variable" and node.get("name"):
                carried[node.get("name") or ""] = (kind, source)
            if kind == _JSON and _USAGE.search(text) and id(source) not in hits:
                hits[id(source)] = (node, source, path)
    return list(hits.values())


def check(ctx: AuditContext):
    reported: set[tuple[str, str]] = set()
    for scope in statement_scopes(ctx):
        if refuses_streaming(scope.nodes) is not None:
            continue  # streamed requests are turned away before any response exists
        for node, source, _path in _scan(scope):
            place = (node.origin.label(), node.tag)
            if place in reported:
                continue
            reported.add(place)
            via = "" if source is node else (
                f" (the body is parsed by <{source.tag}{_named(source)}> at {source.origin.label()})"
            )
            evidence = [element_evidence(node)] + ([] if source is node else [element_evidence(source)])
            yield RULE.finding(
                scope.resource,
                f"{scope.label}: <{node.tag}> reads usage from the response body parsed as JSON{via} with no "
                "branch for streamed (text/event-stream) responses; streamed calls are lost from this accounting "
                "or fail the policy",
                location=ctx.location(node.origin),
                evidence=evidence,
                key=f"{node.tag}:{node.get('logger-id') or node.get('name') or ''}",
            )


def _named(node) -> str:
    name = node.get("name") or node.get("logger-id")
    return f" '{name}'" if name else ""

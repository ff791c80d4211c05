"""ST002: streamed calls are metered by the gateway's estimate, whatever the request asks for."""

from __future__ import annotations

import re

from aoai_audit.analysis import find, may_mention, walk
from aoai_audit.context import ApiView, AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

from . import _refs
from ._support import api_label, chain_summary, group_failures, ops_label, refuses_streaming

# The usage chunk of a streamed chat completion (`stream_options.include_usage`) exists in Azure OpenAI from
# api-version 2024-09-01-preview on; older api-versions reject the parameter ("Unknown parameter:
# 'stream_options'", openai/openai-python#1469 on 2023-05-15; learn Q&A 2007680: works on 2024-09-01-preview).
# The v1 API (`/openai/v1/`, api-version `preview`/`latest` or none) has it too. Versions compare as dates.
STREAM_OPTIONS_SINCE = "2024-09-01"
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")

RULE = Rule(
    id="ST002",
    title="Streamed usage is estimated, not reported",
    severity=Severity.MEDIUM,
    rationale=(
        "When a request sets `stream: true`, API Management's token metrics for it are estimated, not read from "
        "the response (llm-emit-token-metric: \"When `stream` is set to `true` in the API request to enable "
        "streaming, token metrics are estimated\"); the page makes no exception for requests that ask for the "
        "usage chunk with `stream_options.include_usage`. Chargeback for streamed traffic is then approximate "
        "and cannot be reconciled per call with the platform's own token counts."
    ),
    detection=(
        "An LLM API with operations that can stream (a POST, or any-method, operation on chat/completions, "
        "completions, responses, messages or a wildcard path; GET and DELETE, model listings, files, batches, "
        "embeddings, images and audio cannot) whose effective inbound policy does not refuse "
        "streamed requests (a `<when>` on `stream` that returns a response). Asking for the usage chunk does not "
        "silence it. The api-version the backend is called with is read from the policy (`set-query-parameter "
        "name=\"api-version\"`, a `rewrite-uri` template): it decides whether the usage chunk can be asked for "
        "at all (2024-09-01-preview and later) or the estimate is all there is. Where usage was given, the "
        "finding states the streamed share of the API's gateway tokens."
    ),
    fix="Reconcile streamed usage against the account's platform token metrics (KQ003) or the LLM logs; where "
    "callers use api-version 2024-09-01-preview or later, ask the backend for the usage chunk so per-call "
    "accounting can read real counts. Never add `stream_options` for older api-versions: they reject it.",
    fix_snippet="""<!-- ask for the usage chunk only where the api-version knows stream_options (2024-09-01-preview and later,
     and the v1 API); clients then receive one extra chunk with empty choices before [DONE] -->
<choose>
    <when condition="@{
        var body = context.Request.Body.As<JObject>(preserveContent: true);
        var version = context.Request.Url.Query.GetValueOrDefault("api-version", "preview");
        var date = version.Length >= 10 ? version.Substring(0, 10) : version;
        return body.Value<bool?>("stream") == true && body["stream_options"] == null
            && string.CompareOrdinal(date, "2024-09-01") >= 0;
    }">
        <set-body>@{
            var body = context.Request.Body.As<JObject>(preserveContent: true);
            body["stream_options"] = new JObject(new JProperty("include_usage", true));
            return body.ToString();
        }</set-body>
    </when>
</choose>""",
    references=(_refs.LLM_EMIT_TOKEN_METRIC, _refs.AOAI_STREAM_OPTIONS, _refs.SET_BODY),
    requires=frozenset({CARRIES_POLICIES}),
)

# Operations whose response can be a stream: a POST that creates a completion. Chat completions, completions
# and responses take `stream: true` (https://learn.microsoft.com/azure/ai-foundry/openai/reference); so do
# Anthropic messages and Gemini streamGenerateContent. Listings (GET /models), retrievals and deletions (GET or
# DELETE /responses/{id}), files, batches, fine-tuning, embeddings, images and audio never stream.
_COMPLETION_LIKE = re.compile(
    r"(^|/)(chat/completions|completions|responses|v1/messages|messages)/?$|:streamGenerateContent$", re.I)
_WILDCARD = re.compile(r"(^|/)(\*|\{\*[^}]*\})$")  # `/*`, `/{*path}`: any path, so any of the above
_POSTING = ("POST", "", "*")  # the method; "" where the source does not say, "*" for any method
_VERSION_IN_URI = re.compile(r"api-version=([A-Za-z0-9.\-]+)", re.I)
_INCLUDE_USAGE = re.compile(r"include_usage", re.I)
_API_VERSION = re.compile(r"api-version", re.I)


def _path(template: str) -> str:
    return template.split("?", 1)[0].rstrip("/")


def can_stream(method: str, template: str) -> bool:
    """A POST (or any-method) operation on a completion-like path or a wildcard path."""
    path = _path(template)
    return method.upper() in _POSTING and bool(_COMPLETION_LIKE.search(path) or _WILDCARD.search(path))


def _streamable(view: ApiView, operation: str | None) -> bool:
    """Whether calls in this context can stream. An operation is judged by its method and path; an API whose
    operations the source does not carry is judged by its definition's paths, and can stream when nothing says."""
    if operation is not None:
        op = next((o for o in view.api.operations if o.name == operation), None)
        return op is None or not op.url_template or can_stream(op.method, op.url_template)
    paths = list(view.api.spec_paths)
    return not paths or any(can_stream("", p) for p in paths)


def api_versions(nodes: tuple) -> list[str]:
    """Literal api-versions the policy sends to the backend (expressions are unknown, so not listed)."""
    found = []
    for node, _path in find(nodes, "set-query-parameter", "rewrite-uri"):
        if node.tag == "set-query-parameter" and (node.get("name") or "").lower() == "api-version":
            if (node.get("exists-action") or "override").lower() == "delete":
                continue
            found += [c.text.strip() for c in node.children if c.tag == "value" and c.text.strip()
                      and not c.text.strip().startswith("@")]
        elif node.tag == "rewrite-uri":
            found += _VERSION_IN_URI.findall(node.get("template") or "")
    return list(dict.fromkeys(v for v in found if "{" not in v))


def supports_stream_options(version: str) -> bool:
    m = _DATE.match(version)
    return m.group(1) >= STREAM_OPTIONS_SINCE if m else version.lower() in ("preview", "latest", "v1")


def asks_for_usage(nodes: tuple) -> tuple[bool, bool]:
    """(the policy adds stream_options.include_usage, only when the request's api-version is tested)."""
    asks = gated = False
    if not may_mention(nodes, "include_usage"):
        return asks, gated
    for node, path in walk(nodes):
        if any(_INCLUDE_USAGE.search(v) for _k, v in node.attrs) or _INCLUDE_USAGE.search(node.text):
            asks = True
            conditions = [p.get("condition") or "" for p in path if p.tag == "when"] + [node.text]
            gated = gated or any(_API_VERSION.search(c) for c in conditions)
    return asks, gated


def _version_advice(versions: list[str], asks: bool, gated: bool) -> str:
    old = [v for v in versions if not supports_stream_options(v)]
    if asks and old:
        return (
            f"; the policy adds stream_options.include_usage but the backend is called with api-version "
            f"{', '.join(old)}, older than {STREAM_OPTIONS_SINCE}-preview, which rejects that parameter: streamed "
            "calls may fail; remove it for these api-versions and reconcile with the account's platform token metrics"
        )
    if old:
        return (
            f"; the backend is called with api-version {', '.join(old)}, older than {STREAM_OPTIONS_SINCE}-preview: "
            "the usage chunk (stream_options.include_usage) cannot be asked for (that api-version rejects it), so "
            "streamed usage is only the gateway's estimate; reconcile it with the account's platform token metrics"
        )
    if asks:
        caveat = "" if gated or versions else (
            f"; it is added whatever the api-version: api-versions before {STREAM_OPTIONS_SINCE}-preview reject it"
        )
        return (
            "; the policy asks for the usage chunk (stream_options.include_usage), which gives per-call accounting "
            f"real counts but leaves the metric an estimate: reconcile with the account's platform token metrics{caveat}"
        )
    if versions:
        return (
            f"; api-version {', '.join(versions)} accepts stream_options.include_usage: ask for the usage chunk "
            "for per-call accounting and reconcile the estimate with the account's platform token metrics"
        )
    return (
        "; ask for the usage chunk (stream_options.include_usage) only for callers on api-version "
        f"{STREAM_OPTIONS_SINCE}-preview or later (older ones reject it) and reconcile the estimate with the "
        "account's platform token metrics"
    )


def _streamed_share(ctx: AuditContext, view: ApiView) -> str:
    """The streamed share of the API's gateway tokens, stated only where usage shows streamed calls."""
    usage = ctx.estate.usage
    if usage is None:
        return ""
    names = {view.api.name.split(";")[0].lower(), (view.api.display_name or "").lower()} - {""}
    rows = [r for r in usage.gateway if r.api and r.api.lower() in names]
    total = sum(r.tokens for r in rows)
    if not total:
        return ""
    streamed = sum(r.streamed_tokens for r in rows)
    if not streamed:  # token metrics do not say which calls streamed: none seen is not "0% streamed"
        return ""
    return f" ({streamed:,} of its {total:,} gateway tokens in the window, {streamed / total:.1%}, were streamed)"


def check(ctx: AuditContext):
    for view in ctx.judged_gateway_apis:
        estimated = []
        for ep in view.effective:
            if not _streamable(view, ep.operation):
                continue
            if refuses_streaming(ep.sections.get("inbound", ())) is not None:
                continue
            estimated.append(ep)
        share = _streamed_share(ctx, view)
        for group in group_failures(view, estimated):
            what = f"streamed calls to {_streaming_ops(view, group.eps)}" if view.api.operations else "its streamed calls"
            sent = [ep.sections.get("inbound", ()) + ep.sections.get("backend", ()) for ep in group.eps]
            versions = list(dict.fromkeys(v for nodes in sent for v in api_versions(nodes)))
            asked = [asks_for_usage(nodes) for nodes in sent]
            asks, gated = all(a for a, _ in asked), all(g for _, g in asked)
            yield group.finding(
                RULE,
                f"{api_label(view)}: {what}{group.how} are metered by the gateway's estimate (token metrics for "
                f"stream: true requests are estimated){share}{_version_advice(versions, asks, gated)}",
                location=ctx.location(group.origin),
                evidence=[chain_summary(group.eps[0])],
            )


def _streaming_ops(view: ApiView, eps: list) -> str:
    """The operations that can stream, as `POST /chat/completions (chat)`; the API when its operations are unknown."""
    ops = {o.name: o for o in view.api.operations}
    named = [ops[n] for n in dict.fromkeys(ep.operation for ep in eps if ep.operation) if n in ops]
    if not named:
        return ops_label(eps)
    shown = [f"{o.method or 'any method'} {o.url_template or '?'} ({o.display_name or o.name})" for o in named[:5]]
    more = f" and {len(named) - 5} more" if len(named) > 5 else ""
    return f"operation(s) {', '.join(shown)}{more}"

"""What the estate already writes, so a repair copies it instead of inventing: its token-metric fragment, its
namespace and built-in consumer dimensions, or its metric statements themselves (to copy word for word), its attribution-header fragment or statement, its `<base />` spelling.

A service that emits no token metric with a consumer dimension anywhere does not attribute at the gateway: the
fix adds no metric there (RULES.md, "Attribution paths"). Nothing here evaluates C#; values are read as text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..analysis import (
    BUILTIN_DIMENSIONS,
    CONSUMER_BUILTINS,
    DEFAULT_NAMESPACE,
    LEGACY_TOKEN_METRIC,
    TOKEN_METRIC_TAGS,
    consumer_dimensions,
    dimensions,
    is_conditional,
    norm_dimension,
    read_expression,
    token_metrics,
)
from ..context import AuditContext
from ..estate import ApimService
from ..headers import header_matches, header_value
from ..policy.tree import Origin, PolicyNode
from ..resolve.effective import EffectivePolicy, ScopeStep

_WRITABLE_ID = re.compile(r"[A-Za-z0-9._\-]+")  # a fragment id written as an attribute needs no escaping
_WIDTH = {"global": 0, "workspace": 1, "product": 2, "api": 3, "operation": 4}  # a tie goes to the wider scope
MAX_DIMENSIONS = 5  # llm-emit-token-metric: at most 5 custom dimensions (checks/tm006_too_many_dimensions.py)


@dataclass(frozen=True)
class Conventions:
    """One service's (or workspace's) ways, read from its LLM APIs' effective policies and its fragments."""

    metric_fragments: tuple[str, ...]  # fragments holding a token metric, the most included first
    header_fragments: tuple[str, ...]  # fragments forwarding an identity-derived attribution header
    namespace: str | None  # the namespace most LLM APIs emit into (None: no metric with a consumer dimension)
    builtin_dimensions: tuple[str, ...]  # built-in dimension names the estate's metrics use, consumer first
    header_statement: PolicyNode | None  # a set-header forwarding an identity-derived attribution header
    metric_scope: str | None = None  # the scope most of those metrics are written at: global, product, api, ...
    metric_copies: tuple[PolicyNode, ...] = ()  # its unconditional consumer metrics, the most used first (verbatim)

    @property
    def attributes_at_gateway(self) -> bool:
        return self.namespace is not None

    def metric_statement(self) -> str | None:
        """The estate's metric as one statement (tabs mark depth), or None when it uses no built-in consumer
        dimension that needs no value."""
        if self.namespace is None or not any(norm_dimension(d) in CONSUMER_BUILTINS for d in self.builtin_dimensions):
            return None
        ns = "" if self.namespace == DEFAULT_NAMESPACE else f' namespace="{self.namespace}"'
        dims = "".join(f'\n\t<dimension name="{d}" />' for d in self.builtin_dimensions[:MAX_DIMENSIONS])
        return f"<llm-emit-token-metric{ns}>{dims}\n</llm-emit-token-metric>"


def _same(a: Origin, b: Origin) -> bool:
    return (a.path, a.resource_id, a.scope) == (b.path, b.resource_id, b.scope)


def scope_of(ep: EffectivePolicy, node: PolicyNode, service: ApimService) -> ScopeStep | None:
    """The scope whose policy writes `node` (directly, or through an `<include-fragment>` of the fragment holding
    it, the innermost such scope), or None when it cannot be told."""
    steps = [s for s in reversed(ep.chain) if s.usable]
    for step in steps:
        if _same(node.source, step.policy.origin):  # type: ignore[union-attr]
            return step
    frag = next((f.name for f in service.fragments if _same(node.source, f.policy.origin)), None)
    for step in steps if frag else ():
        section = step.policy.document.section("inbound")  # type: ignore[union-attr]
        if section is not None and any(n.tag == "include-fragment" and n.get("fragment-id") == frag
                                       for n in section.iter()):
            return step
    return None


def _included(ctx: AuditContext, service: ApimService) -> Counter[str]:
    """How often each fragment is included across the service's policies."""
    counts: Counter[str] = Counter()
    base = f"service/{service.name}"
    for resource, policy in ctx.policies():
        if (resource == base or resource.startswith(base + "/")) and policy.document is not None:
            for root in list(policy.document.sections.values()) + list(policy.document.body):
                for node in root.iter():
                    if node.tag == "include-fragment" and node.get("fragment-id"):
                        counts[node.get("fragment-id") or ""] += 1
    return counts


def _clean_identity(value: str) -> bool:
    """Derived from the authenticated caller only: no caller header, no variable that might be unset."""
    src = read_expression(value)
    return bool(src.identity) and not src.headers and not src.variables


def _forwards_attribution(node: PolicyNode, patterns: tuple[str, ...]) -> bool:
    return (node.tag == "set-header" and (node.get("exists-action") or "override").lower() == "override"
            and header_matches(node.get("name") or "", patterns) and _clean_identity(header_value(node)))


def read_conventions(ctx: AuditContext, service: ApimService, workspace: str | None) -> Conventions:
    """The conventions of `service` (of its `workspace` where the API lives in one: a workspace is its own
    team's slice and sees only its own fragments besides the service's)."""
    patterns = ctx.settings.attribution_headers
    views = [v for v in ctx.llm_apis if v.service is service]
    namespaces: Counter[str] = Counter()
    builtins: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    writers: dict[tuple[str, str], None] = {}  # (scope, name) of each policy that writes a consumer metric
    header: PolicyNode | None = None
    copies: Counter[tuple[str | None, str | None, int | None]] = Counter()  # metric statements by where written
    copy_nodes: dict[tuple[str | None, str | None, int | None], PolicyNode] = {}
    for view in views:
        seen_ns: set[str] = set()
        for ep in view.effective:
            for metric, path in token_metrics(ep.inbound):
                dims = dimensions(metric, ep.inbound)
                if not consumer_dimensions(dims):
                    continue
                if not is_conditional(path) and view.api.workspace == workspace:
                    where = (metric.source.path, metric.source.resource_id, metric.line)
                    copies[where] += 1
                    copy_nodes.setdefault(where, metric)
                ns = metric.get("namespace") or DEFAULT_NAMESPACE
                if ns not in seen_ns:
                    seen_ns.add(ns)
                    namespaces[ns] += 1
                step = scope_of(ep, metric, service)
                if step is not None:
                    writers[(step.scope, step.name)] = None
                for d in dims:
                    if d.builtin:
                        name = BUILTIN_DIMENSIONS[norm_dimension(d.name)]
                        builtins[name] += 1
                        first_seen.setdefault(name, len(first_seen))
            for node in (n for top in ep.inbound for n in top.iter()):
                if header is None and _forwards_attribution(node, patterns):
                    header = node
    counts = _included(ctx, service)
    visible = [f for f in service.fragments if f.workspace in (None, workspace) and f.policy.document is not None]
    metric_frags, header_frags = [], []
    for frag in (f for f in visible if _WRITABLE_ID.fullmatch(f.name)):
        body = frag.policy.document.body if frag.policy.document else ()
        nodes = [n for top in body for n in top.iter()]
        metrics = [n for n in nodes if n.tag in TOKEN_METRIC_TAGS]
        if metrics and all(n.tag != LEGACY_TOKEN_METRIC for n in metrics) and counts[frag.name]:
            metric_frags.append(frag.name)
        tops = [n for n in body]
        if tops and all(_forwards_attribution(n, patterns) for n in tops):
            header_frags.append(frag.name)
    scopes = Counter(scope for scope, _name in writers)
    order = sorted(builtins, key=lambda n: (norm_dimension(n) not in CONSUMER_BUILTINS, first_seen[n]))
    return Conventions(
        metric_fragments=tuple(sorted(metric_frags, key=lambda f: (-counts[f], f))),
        header_fragments=tuple(sorted(header_frags, key=lambda f: (-counts[f], f))),
        namespace=namespaces.most_common(1)[0][0] if namespaces else None,
        builtin_dimensions=tuple(order),
        header_statement=header,
        metric_scope=min(scopes, key=lambda s: (-scopes[s], _WIDTH.get(s, len(_WIDTH)))) if scopes else None,
        metric_copies=tuple(copy_nodes[w] for w in sorted(copy_nodes, key=lambda w: -copies[w])),  # stable: first seen
    )


def fragment_include(name: str) -> str:
    """An include of fragment `name`, quoted as fragment ids can be written (letters, digits, `-`, `_`, `.`)."""
    if not _WRITABLE_ID.fullmatch(name):
        raise ValueError(f"fragment id {name!r} cannot be written as an attribute without escaping")
    return f'<include-fragment fragment-id="{name}" />'

"""Small helpers the built-in checks share (formatting evidence, grouping contexts)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from aoai_audit.analysis import Dimension, dimensions, find, token_metrics
from aoai_audit.context import ApiView, AuditContext
from aoai_audit.findings import Finding, Location
from aoai_audit.policy.tree import Origin, Policy, PolicyNode
from aoai_audit.resolve.effective import EffectivePolicy
from aoai_audit.resolve.views import context_of
from aoai_audit.rules import Rule

_STREAM_WORD = re.compile(r"stream", re.I)


def section_origin(policy: Policy, section: str) -> Origin:
    """The line of a section element when the policy has it, else the policy itself."""
    if policy.document is not None:
        element = policy.document.section(section)
        if element is not None:
            return element.origin
    return policy.origin


def chain_summary(ep: EffectivePolicy) -> str:
    parts = []
    for step in ep.chain:
        if step.policy is None:
            where = "no policy"
        elif step.policy.document is None:
            where = f"{step.policy.origin.label()} (could not be parsed)"
        else:
            where = step.policy.origin.label()
        parts.append(f"{step.label()}: {where}")
    return "scopes: " + " → ".join(parts)


def element_evidence(node: PolicyNode, text: str | None = None) -> str:
    attrs = " ".join(f'{k}="{v}"' for k, v in node.attrs)
    shown = text if text is not None else f"<{node.tag}{' ' + attrs if attrs else ''}>"
    return f"{node.origin.label()}: {shown}"


def by_product(effective: Iterable[EffectivePolicy]) -> dict[str | None, list[EffectivePolicy]]:
    groups: dict[str | None, list[EffectivePolicy]] = defaultdict(list)
    for ep in effective:
        groups[ep.product].append(ep)
    return dict(groups)


def why_llm(view: ApiView) -> str:
    return "classified as LLM API: " + "; ".join(view.verdict.reasons[:2])


def ops_label(eps: list[EffectivePolicy]) -> str:
    names = list(dict.fromkeys(ep.operation for ep in eps if ep.operation))
    if not names:
        return "the API"
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"operation(s) {shown}"


class AllProducts:
    """The context 'whichever product the API is called through' (one instance, ALL_PRODUCTS)."""


ALL_PRODUCTS = AllProducts()


class Group:
    """Operations × product contexts that fail a rule the same way: reported as one finding."""

    def __init__(self, view: ApiView, eps: list[EffectivePolicy], product: str | AllProducts | None, whole_api: bool):
        self.view = view
        self.eps = eps
        self.product = product  # a product name, None (no product) or ALL_PRODUCTS
        self.whole_api = whole_api

    @property
    def context(self) -> str:
        return "" if isinstance(self.product, AllProducts) else context_of(self.view, self.product)

    @property
    def how(self) -> str:
        """' when called via product X' or ''."""
        return f" when called {self.context}" if self.context else ""

    @property
    def resource(self) -> str:
        return self.view.resource if self.whole_api else self.view.operation_resource(self.eps[0].operation)

    @property
    def origin(self):
        """The policy a person edits: the API's for the whole API, else the operation's (or the API's)."""
        if not self.whole_api:
            last = self.eps[0].chain[-1]
            if last.scope == "operation" and last.policy is not None:
                return section_origin(last.policy, "inbound")
        if self.view.api.policy is not None:
            return section_origin(self.view.api.policy, "inbound")
        return self.view.policy_origin

    @property
    def operations(self) -> list[str]:
        return list(dict.fromkeys(ep.operation for ep in self.eps if ep.operation))

    @property
    def calls(self) -> str:
        """What fails, for a message: 'its calls' (the whole API) or 'operation(s) a, b'."""
        return "its calls" if self.whole_api else ops_label(self.eps)

    def finding(self, rule: Rule, message: str, location: Location, evidence: Iterable[str]) -> Finding:
        """The group's one finding: on its resource (the API or an operation), in its product context."""
        return rule.finding(self.resource, message, location=location, evidence=evidence, context=self.context)


def group_failures(view: ApiView, failing: Iterable[EffectivePolicy]) -> list[Group]:
    """Fold failing (operation, product) pairs into as few findings as stay truthful."""
    failing = list(failing)
    if not failing:
        return []
    products = list(dict.fromkeys(ep.product for ep in view.effective))
    ops = list(dict.fromkeys(ep.operation for ep in view.effective))
    failed = {(ep.operation, ep.product): ep for ep in failing}
    by_set: dict[frozenset, list[str | None]] = defaultdict(list)
    for op in ops:
        pset = frozenset(p for p in products if (op, p) in failed)
        if pset:
            by_set[pset].append(op)
    groups = []
    for pset, op_names in by_set.items():
        whole = len(op_names) == len(ops)
        contexts: list[str | AllProducts | None] = (
            [ALL_PRODUCTS] if len(pset) == len(products) else [p for p in products if p in pset])
        for product in contexts:
            in_context = [q for q in products if q in pset] if isinstance(product, AllProducts) else [product]
            for op in ([None] if whole else op_names):
                chosen = [
                    failed[(o, p)]
                    for o in (op_names if op is None else [op])
                    for p in in_context
                    if (o, p) in failed
                ]
                groups.append(Group(view, chosen, product, whole))
    return groups


def named(kind: str, name: str, origin: Origin, qualifier: str = "") -> str:
    """`Azure OpenAI account 'x'`, or, for what a copy loop whose count the deployment decides creates, the
    source's own wording: "Every Azure OpenAI account the copy loop 'x' creates (if any)" (arm/build.py `looped`)."""
    lead = f"{qualifier} " if qualifier else ""
    if origin.scope.startswith("every "):
        return f"Every {lead}{origin.scope[len('every '):]}"
    return f"{lead}{kind} '{name}'"


def at(origin: Origin, resource_id: str) -> Location:
    """A finding's location: the declaring file and line when known, and the Azure resource id always."""
    return Location(origin.path, origin.line, origin.resource_id or resource_id)


@dataclass(frozen=True)
class StatementScope:
    """Policy statements a statement-level rule judges together: an LLM API's effective policy in one context,
    or, in a statement-level audit (loose files only), a loose policy or a fragment file on its own."""

    resource: str
    label: str  # "LLM API 'chat'", "policy 'chat'", "policy fragment 'usage-log'"
    nodes: tuple[PolicyNode, ...]  # every section, in document order
    inbound: tuple[PolicyNode, ...]  # where the token-metric policies run (a fragment: its whole body)
    origin: Origin


def api_label(view: ApiView) -> str:
    return f"LLM API '{view.api.display_name or view.api.name}'"


def statement_scopes(ctx: AuditContext) -> Iterator[StatementScope]:
    """What statement-level rules (ST001, TM006, ...) look at.

    Over an estate: the effective policy of every LLM API, per operation and product. A loose policy or fragment
    scanned on its own (the pre-commit hook on a changed file) is not an estate: nothing says which APIs include
    the fragment, and a loose policy has no backend metadata, so every loose policy and every fragment is judged
    as written, by the rules that can judge a statement without the rest of the estate.
    """
    statement_level = ctx.estate.statement_level
    for view in ctx.apis if statement_level else ctx.judged_gateway_apis:
        label = api_label(view) if view.verdict.is_llm else f"policy '{view.api.display_name or view.api.name}'"
        for ep in view.effective:
            nodes = tuple(n for section in ep.sections.values() for n in section)
            yield StatementScope(view.resource, label, nodes, ep.inbound, view.policy_origin)
    if not statement_level:
        return
    for service in ctx.estate.services:
        for fragment in service.fragments:
            document = fragment.policy.document
            if document is None:
                continue  # its parse error is AU002
            yield StatementScope(
                f"service/{service.name}/policyFragments/{fragment.name}",
                f"policy fragment '{fragment.name}'",
                document.body,
                document.body,
                fragment.policy.origin,
            )


def refuses_streaming(nodes: tuple[PolicyNode, ...]) -> PolicyNode | None:
    """A `return-response` under a `<when>` that tests `stream`: streamed requests never reach the backend."""
    for node, path in find(nodes, "return-response"):
        if any(
            p.tag == "when" and _STREAM_WORD.search(p.get("condition") or "") for p in path
        ):
            return node
    return None


@dataclass(frozen=True)
class MetricSite:
    """A token metric in the effective inbound policy of an LLM API, in one context (operation × product)."""

    view: ApiView
    inbound: tuple[PolicyNode, ...]
    metric: PolicyNode

    @property
    def dimensions(self) -> list[Dimension]:
        """Its dimensions with what their values are read from (memoised by analysis.dimensions)."""
        return dimensions(self.metric, self.inbound)


def metric_sites(views: Iterable[ApiView]) -> Iterator[MetricSite]:
    """Every token metric of these LLM APIs (usually `ctx.judged_gateway_apis`), context by context: the walk
    TM002, TM003, TM005 and TM010 share. A metric an API reaches in several contexts comes once per context; a
    rule that reports it once per API keys what it reported by `id(site.view)` and the node."""
    for view in views:
        for ep in view.effective:
            for metric, _path in token_metrics(ep.inbound):
                yield MetricSite(view, ep.inbound, metric)

"""The effective policy of an operation, as the gateway runs it.

Scopes nest global → workspace → product → API → operation. In each section an inner scope's
`<base/>` is replaced by what the outer scopes produce; a section without `<base/>` drops them.
A scope with no policy, or a policy that omits a section, inherits that section unchanged.
`<include-fragment>` is replaced by the fragment's statements, recursively, with cycle detection.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..estate import Api, ApimService, Fragment, Operation, Product
from ..policy.tree import SECTIONS, Origin, Policy, PolicyNode

INCLUDE = "include-fragment"


@dataclass(frozen=True, slots=True)
class ScopeStep:
    scope: str  # global, workspace, product, api, operation
    name: str
    policy: Policy | None

    @property
    def usable(self) -> bool:
        return self.policy is not None and self.policy.document is not None

    def has_base(self, section: str) -> bool | None:
        """True/False when the section exists; None when the scope has no say (inherits)."""
        if not self.usable:
            return None
        sec = self.policy.document.section(section)  # type: ignore[union-attr]
        if sec is None:
            return None
        return any(child.tag == "base" for child in sec.children)

    def label(self) -> str:
        return "global" if self.scope == "global" else f"{self.scope} '{self.name}'"


@dataclass(frozen=True, slots=True)
class ResolutionIssue:
    message: str
    origin: Origin


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    service: str
    api: str
    operation: str | None  # None when the API has no known operations
    product: str | None  # the product context the call comes through; None: no product
    chain: tuple[ScopeStep, ...]
    sections: dict[str, tuple[PolicyNode, ...]]

    @property
    def inbound(self) -> tuple[PolicyNode, ...]:
        return self.sections.get("inbound", ())

    def context_label(self) -> str:
        return f"via product '{self.product}'" if self.product else "without a product"

    def step(self, scope: str) -> ScopeStep | None:
        for s in self.chain:
            if s.scope == scope:
                return s
        return None


# APIM itself lets no fragment include another, and caps a fragment at 32 KB
# (https://learn.microsoft.com/azure/api-management/policy-fragments, "Limitations"). Exported or hand-written
# estates can still nest them; these bounds keep a hostile nest (each fragment including the next twice, or a
# chain hundreds long) from expanding exponentially or recursing past Python's stack.
MAX_INCLUDE_DEPTH = 16
MAX_EXPANDED_NODES = 50_000  # elements one expansion may produce; real sections hold a few hundred
# Remember what a resolver has already worked out (element counts, resolved sections). Off only to prove the
# reports do not change (benchmarks/unoptimised.py).
REMEMBER = True


Facts = dict[int, tuple[PolicyNode, int, bool]]  # id(node) → (node, elements in its subtree, holds an include)


class FragmentResolver:
    """Expands `<include-fragment>`; remembers problems so they surface as findings, not crashes.

    Each fragment is expanded once and remembered (with its element count), so a fragment included many
    times costs one expansion; depth and total size are bounded and an excess is an issue (AU002)."""

    def __init__(self, fragments: tuple[Fragment, ...], workspace: str | None, facts: Facts | None = None):
        self._by_name: dict[str, Fragment] = {}
        for frag in fragments:
            if frag.workspace is None or frag.workspace == workspace:
                # a workspace fragment shadows a service one of the same name
                if frag.workspace is not None or frag.name not in self._by_name:
                    self._by_name[frag.name] = frag
        self.issues: list[ResolutionIssue] = []
        self._cache: dict[str, tuple[tuple[PolicyNode, ...], int]] = {}
        # Each statement's element count and whether it holds an include, found once: a scope's statements are
        # inherited by every inner scope and would otherwise be walked again at each (id → node kept, so ids stay).
        # Pure facts of a node, so resolvers of the same API may share them (`facts`); their state may not be.
        self._facts: Facts = {} if facts is None else facts
        # A section resolved once per (its element, what it inherits): every operation of an API shares the
        # global → product → API prefix, so only the operation's own step is new (see `resolve_step`).
        self._steps: dict[tuple[int, int], tuple[PolicyNode, tuple[PolicyNode, ...], tuple[PolicyNode, ...]]] = {}
        # Resolved sections that hold no include any more, with their element count (id → the tuple, kept).
        self._sizes: dict[int, tuple[tuple[PolicyNode, ...], int]] = {id(()): ((), 0)}

    def resolve_step(self, element: PolicyNode, inherited: tuple[PolicyNode, ...]) -> tuple[PolicyNode, ...]:
        """One scope's section with its first `<base/>` replaced by what the outer scopes produce, expanded.

        Remembered per (element, inherited): expanding the same input again in this resolver gives the same
        nodes, and only issues it already recorded (every fragment it reaches is cached by then, a missing one
        repeats its own issue), which the caller de-duplicates anyway."""
        key = (id(element), id(inherited))
        hit = self._steps.get(key) if REMEMBER else None
        if hit is not None and hit[0] is element and hit[1] is inherited:
            return hit[2]
        before: list[PolicyNode] = []
        after: list[PolicyNode] = []
        based = False
        for child in element.children:
            if child.tag != "base":
                (after if based else before).append(child)
            else:  # a second <base/> would run the outer scopes twice: expand the first only
                based = True
        nodes = (*before, *inherited, *after) if based else (*before, *after)
        known = self._sizes.get(id(inherited)) if REMEMBER and based else None
        if REMEMBER and ((known is not None and known[0] is inherited) or not based):
            size = self._plain(before, after, known[1] if known is not None else 0)
            if size is not None:
                # the usual step: no include among this scope's own statements, nothing to expand
                result = inherited if based and not before and not after else nodes
                self._steps[key] = (element, inherited, result)
                self._sizes[id(result)] = (result, size)
                return result
        if known is not None and known[0] is inherited:
            # what the outer scopes produced is expanded already and its size known: not walked again
            result, size = self._bounded(nodes, (), (len(before), len(inherited), known[1]))
        else:
            result, size = self._bounded(nodes, ())
        if REMEMBER:
            if based and len(result) == len(inherited) and all(a is b for a, b in zip(result, inherited, strict=True)):
                # a scope that only says <base/> adds nothing: keep the very tuple, so operations without a say
                # share their API's effective section and what the checks remember about it
                result = inherited
            self._steps[key] = (element, inherited, result)
            if size is not None:
                self._sizes[id(result)] = (result, size)
        return result

    def _plain(self, before: list[PolicyNode], after: list[PolicyNode], size: int) -> int | None:
        """Elements of a section whose own statements hold no include (`size`: what it inherits), or None when
        they hold one or the total passes the bound: then the full expansion decides (and reports)."""
        for node in (*before, *after):
            count, include = self._facts_of(node)
            if include:
                return None
            size += count
        return size if size <= MAX_EXPANDED_NODES else None

    def _facts_of(self, node: PolicyNode) -> tuple[int, bool]:
        """(elements in the subtree, whether an include is among them), walked once per node."""
        if not REMEMBER:
            return _count(node), bool(node.children) and _contains_include(node)
        hit = self._facts.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1], hit[2]
        count, include = 0, False
        for n in node.iter():
            count += 1
            if n.tag == INCLUDE:
                include = True
        self._facts[id(node)] = (node, count, include)
        return count, include

    def expand(self, nodes: tuple[PolicyNode, ...], stack: tuple[str, ...] = ()) -> tuple[PolicyNode, ...]:
        return self._bounded(nodes, stack)[0]

    def _bounded(
        self, nodes: tuple[PolicyNode, ...], stack: tuple[str, ...], clean: tuple[int, int, int] | None = None
    ) -> tuple[tuple[PolicyNode, ...], int | None]:
        """The expansion and its element count; past the bound, the nodes with includes left out and None.
        `clean`: (start, length, elements) of a run of `nodes` already expanded, taken as it is."""
        out, size = self._expand(nodes, stack, clean)
        if size > MAX_EXPANDED_NODES:
            origin = nodes[0].origin if nodes else Origin()
            self.issues.append(ResolutionIssue(
                f"policy fragments expand to more than {MAX_EXPANDED_NODES:,} elements here; includes left unexpanded",
                origin))
            return tuple(n for n in nodes if n.tag != INCLUDE), None
        return out, size

    def _expand(
        self, nodes: tuple[PolicyNode, ...], stack: tuple[str, ...], clean: tuple[int, int, int] | None = None
    ) -> tuple[tuple[PolicyNode, ...], int]:
        out: list[PolicyNode] = []
        if clean is None:
            size = self._expand_into(out, nodes, stack, 0)
            return tuple(out), size
        start, length, elements = clean
        size = self._expand_into(out, nodes[:start], stack, 0)
        if size <= MAX_EXPANDED_NODES:
            out.extend(nodes[start:start + length])
            size += elements
            if size <= MAX_EXPANDED_NODES:
                size = self._expand_into(out, nodes[start + length:], stack, size)
        return tuple(out), size

    def _expand_into(self, out: list[PolicyNode], nodes: tuple[PolicyNode, ...], stack: tuple[str, ...], size: int) -> int:
        """Append the expansion of `nodes` to `out`; the running element count, which stops past the bound."""
        for node in nodes:
            if node.tag == INCLUDE:
                body, n = self._include(node, stack)
                out.extend(body)
            else:
                n, include = self._facts_of(node)
                if node.children and include:
                    children, n = self._expand(node.children, stack)
                    out.append(replace(node, children=children))
                    n += 1
                else:
                    out.append(node)
            size += n
            if size > MAX_EXPANDED_NODES:
                break  # the caller reports it; stop before building more
        return size

    def _include(self, node: PolicyNode, stack: tuple[str, ...]) -> tuple[tuple[PolicyNode, ...], int]:
        name = node.get("fragment-id") or ""
        if name in stack:
            chain = " → ".join((*stack, name))
            self.issues.append(ResolutionIssue(f"policy fragment include cycle: {chain}", node.origin))
            return (), 0
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        fragment = self._by_name.get(name)
        if fragment is None:
            self.issues.append(
                ResolutionIssue(f"policy fragment '{name}' is included but not in the estate", node.origin)
            )
            return (), 0
        document = fragment.policy.document
        if document is None:
            return (), 0  # the fragment's own parse error is already reported
        if len(stack) >= MAX_INCLUDE_DEPTH:
            chain = " → ".join((*stack[:3], "…", *stack[-2:], name))
            self.issues.append(ResolutionIssue(
                f"policy fragments include each other more than {MAX_INCLUDE_DEPTH} levels deep ({chain}); "
                "not expanded further", node.origin))
            result: tuple[tuple[PolicyNode, ...], int] = ((), 0)
        else:
            result = self._expand(document.body, (*stack, name))
            if result[1] > MAX_EXPANDED_NODES:
                self.issues.append(ResolutionIssue(
                    f"policy fragment '{name}' expands to more than {MAX_EXPANDED_NODES:,} elements "
                    "(fragments included in each other too often); not expanded", node.origin))
                result = ((), 0)
        self._cache[name] = result
        return result


def _count(node: PolicyNode) -> int:
    return sum(1 for _ in node.iter())


def _contains_include(node: PolicyNode) -> bool:
    return any(n.tag == INCLUDE for n in node.iter())


def scope_chain(
    service: ApimService, api: Api, operation: Operation | None, product: Product | None
) -> tuple[ScopeStep, ...]:
    steps = [ScopeStep("global", "global", service.global_policy)]
    if api.workspace:
        ws = next((w for w in service.workspaces if w.name == api.workspace), None)
        steps.append(ScopeStep("workspace", api.workspace, ws.policy if ws else None))
    if product is not None:
        steps.append(ScopeStep("product", product.name, product.policy))
    steps.append(ScopeStep("api", api.name, api.policy))
    if operation is not None:
        steps.append(ScopeStep("operation", operation.name, operation.policy))
    return tuple(steps)


def resolve_sections(chain: tuple[ScopeStep, ...], fragments: FragmentResolver) -> dict[str, tuple[PolicyNode, ...]]:
    """Each section of the chain, outer scope first. The operations of an API share every step but the last:
    `resolve_step` remembers those, so only the operation's own step is worked out anew."""
    sections: dict[str, tuple[PolicyNode, ...]] = {}
    for section in SECTIONS:
        inherited: tuple[PolicyNode, ...] = ()
        for step in chain:
            if not step.usable:
                continue
            element = step.policy.document.section(section)  # type: ignore[union-attr]
            if element is not None:
                inherited = fragments.resolve_step(element, inherited)
        sections[section] = inherited
    return sections


def products_by_api(service: ApimService) -> dict[str, tuple[Product, ...]]:
    """API name → the products that contain it (one pass over the service, not one per API)."""
    index: dict[str, list[Product]] = {}
    for product in service.products:
        for name in dict.fromkeys(product.apis):
            index.setdefault(name, []).append(product)
    return {name: tuple(products) for name, products in index.items()}


def product_contexts(
    service: ApimService, api: Api, index: dict[str, tuple[Product, ...]] | None = None
) -> tuple[Product | None, ...]:
    """The products a call to this API can come through, plus 'no product' where that is possible. A product
    holds the APIs of its own workspace (or the service's): "Each workspace contains APIs, products,
    subscriptions, named values, and related resources", and a workspace product links that workspace's APIs
    (https://learn.microsoft.com/en-us/azure/api-management/workspaces-overview); an API of the same name in
    another workspace is another API."""
    index = products_by_api(service) if index is None else index
    base_name = api.name.split(";rev=")[0]
    found = index.get(base_name, ()) + (index.get(api.name, ()) if api.name != base_name else ())
    products = tuple({id(p): p for p in found if p.workspace == api.workspace}.values())
    if not products or api.subscription_required is False:
        return (*products, None)
    return products


def effective_policies(
    service: ApimService, api: Api, index: dict[str, tuple[Product, ...]] | None = None, facts: Facts | None = None
) -> tuple[tuple[EffectivePolicy, ...], tuple[ResolutionIssue, ...]]:
    """Every (product context × operation) the API can be called through, and resolution problems. `facts`:
    node facts to share with another resolver of this API (classify's)."""
    fragments = FragmentResolver(service.fragments, api.workspace, facts)
    operations: tuple[Operation | None, ...] = api.operations or (None,)
    result = []
    for product in product_contexts(service, api, index):
        for operation in operations:
            chain = scope_chain(service, api, operation, product)
            result.append(
                EffectivePolicy(
                    service=service.name,
                    api=api.name,
                    operation=operation.name if operation else None,
                    product=product.name if product else None,
                    chain=chain,
                    sections=resolve_sections(chain, fragments),
                )
            )
    return tuple(result), tuple(dict.fromkeys(fragments.issues))

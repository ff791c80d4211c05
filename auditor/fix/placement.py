"""Where a missing token metric goes (TM001): at the scope the estate already meters at, never where a call would
then be metered twice.

Scopes nest global → workspace → product → API → operation, and each `<llm-emit-token-metric>` on a call's way in
emits the call's tokens once: the policy "can be used multiple times per policy definition"
(https://learn.microsoft.com/azure/api-management/llm-emit-token-metric-policy, "Usage"), so a metric at a product
AND at an API that inherits it through `<base />` records the same tokens twice, and a chargeback sum doubles
them. The re-audit would not see that (no rule fires on two metrics), so the placement rules it out first and the
proof checks it again (`prove.metric_counts`).

The decision, for an API that lacks the metric in some product contexts ("contexts": the products a call can come
through, and "no product" where that is possible):

- **API scope** reaches every context of the API: allowed only when none of them is metered yet.
- **Product scope** reaches every API of the product: allowed only when every missing context is a product, and
  no call through that product is metered yet (no API of it, this one included, gets a metric another way).
- Tried in the estate's order: product first where the estate's consumer metrics sit at product scope (APIOps
  `products/<name>/policy.xml`), else the API first. When neither is allowed the finding is declined, naming the
  metered context or API that would count twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..analysis import token_metrics
from ..attribution.model import OWNED
from ..context import AuditContext
from ..estate import Product
from ..findings import Finding
from ..policy.tree import Origin, Policy
from ..resolve.views import ApiView, context_of
from .rawtext import RawDocument

Raw = Callable[[str], "RawDocument | None"]


@dataclass(frozen=True)
class Site:
    """A policy a metric statement is added to: its file read as text (APIOps, policy files), or, for a generated
    template the fix never edits, where it is declared (`origin`; `declared` False: no policy resource yet)."""

    scope: str  # "api" or "product"
    name: str
    path: str  # the policy file (APIOps: apis/<name>/policy.xml, products/<name>/policy.xml) or the template
    doc: RawDocument | None
    origin: Origin | None = None
    declared: bool = True

    def label(self) -> str:
        return f"{self.scope} '{self.name}'"


@dataclass(frozen=True)
class Placement:
    """One way to place the metric: the policies that get it, and what the reviewer reads about it."""

    scope: str
    sites: tuple[Site, ...]

    def label(self) -> str:
        if self.scope == "api":
            return "the API's own policy"
        names = ", ".join(f"'{s.name}'" for s in self.sites)
        return f"the policy of product{'s' if len(self.sites) > 1 else ''} {names} (where the estate meters)"


def _metered(view: ApiView, product: str | None) -> bool:
    return any(token_metrics(ep.inbound) for ep in view.effective if ep.product == product)


def missing_contexts(view: ApiView, f: Finding) -> list[str | None]:
    """The product contexts the finding names in which no operation of the API is metered."""
    contexts = list(dict.fromkeys(ep.product for ep in view.effective))
    missing = [c for c in contexts if not _metered(view, c)]
    return missing if not f.context else [c for c in missing if context_of(view, c) == f.context]


def _product(ctx: AuditContext, view: ApiView, name: str) -> Product | None:
    return next((p for p in view.service.products if p.name == name
                 and p.workspace in (None, view.api.workspace)), None)


def _product_site(ctx: AuditContext, view: ApiView, name: str, raw: Raw | None) \
        -> Site | str:
    """Product `name` as a site, or why its policy cannot take the metric."""
    product = _product(ctx, view, name)
    if product is None:
        return f"product '{name}' is not in the estate"
    held = [v for v in ctx.apis if v.service is view.service and any(ep.product == name for ep in v.effective)]
    other = [v for v in held if not v.verdict.is_llm or ctx.attribution.role(v.resource) == OWNED]
    if other:
        shown = ", ".join(f"'{v.api.name}'" for v in other[:3])
        return (f"product '{name}' also holds API {shown}, not an LLM API metered at the gateway: a metric in the "
                "product's policy would reach it too")
    twice = [v for v in held if _metered(v, name)]
    if twice:
        shown = ", ".join(f"'{v.api.name}'" for v in twice[:3])
        return (f"product '{name}' already carries metered calls (API {shown}): a metric in its policy would count "
                "their tokens twice")
    return _site("product", name, product.policy, product.origin, raw) or \
        f"product '{name}' has no policy file that can be read as text to add the statement to"


def _api_site(view: ApiView, contexts: list[str | None], raw: Raw | None) -> Site | str:
    metered = [c for c in dict.fromkeys(ep.product for ep in view.effective) if _metered(view, c)]
    if metered:
        shown = ", ".join(f"'{c}'" if c else "without a product" for c in metered[:3])
        return f"the API is already metered via product {shown}: a metric in its own policy would count those calls twice"
    return _site("api", view.api.name, view.api.policy, view.api.origin, raw) or \
        "the API has no policy file of its own that can be read as text to add the statement to"


def _site(scope: str, name: str, policy: Policy | None, declared_at: Origin, raw: Raw | None) -> Site | None:
    """The policy as a site: read as text (`raw`), or, for a generated template (`raw` None), where it is declared
    (the resource that holds the entity when it has no policy resource yet)."""
    if raw is None:
        origin = policy.origin if policy is not None else declared_at
        return Site(scope, name, origin.path or "", None, origin, policy is not None)
    path = policy.origin.path if policy is not None else None
    doc = raw(path) if path else None
    if doc is None or doc.root.name != "policies":
        return None
    return Site(scope, name, path, doc, policy.origin)  # type: ignore[arg-type, union-attr]


def placements(ctx: AuditContext, view: ApiView, f: Finding, estate_scope: str | None,
               raw: Raw | None) -> tuple[list[Placement], list[str]]:
    """The allowed placements in the estate's order, and why each other one was ruled out."""
    contexts = missing_contexts(view, f)
    why: list[str] = []
    out: list[Placement] = []
    api = _api_site(view, contexts, raw)
    if isinstance(api, Site):
        out.append(Placement("api", (api,)))
    else:
        why.append(f"not in the API's policy: {api}")
    if not contexts:
        why.append("no context of the finding lacks the metric")
    elif None in contexts:
        why.append("not in a product's policy: the API can be called without a product")
    else:
        found = [_product_site(ctx, view, name, raw) for name in contexts if name is not None]
        sites = [s for s in found if isinstance(s, Site)]
        bad = [s for s in found if isinstance(s, str)]
        if bad:
            why.append("not in a product's policy: " + "; ".join(bad))
        else:
            out.append(Placement("product", tuple(sites)))
    out.sort(key=lambda p: p.scope != ("product" if estate_scope == "product" else "api"))
    return out, why

"""Compute the attribution model: for every LLM account and deployment, the path its spend takes to a team.

Pure: the estate, the LLM APIs (resolved) and the settings in, an AttributionModel out. Decisions, in order
(documented in docs/attribution.md):
1. A deployment with its own owner (owner tag, or a cost-centre map entry keyed by the deployment) is isolated by
   resource: whatever calls it, its spend is that team's.
2. An account reached by a shared gateway unit (an APIM service or workspace with no owner) is attributed at that
   gateway: metered when every LLM API of every shared unit reaching it has a token metric with a consumer
   dimension in every context, else shared and unmetered ("passed the gateway unmetered"). The account's own tag
   then names its operator, not its consumers, and does not count.
3. An account reached only by team gateways (a service or workspace that is one team): one team → isolated by
   resource (the account's owner if it has one, else the gateway's). Several teams → isolated by service or
   workspace where every LLM API of those units emits a token metric (its default Service ID / Service Name
   dimension names the instance, https://learn.microsoft.com/en-us/azure/api-management/llm-emit-token-metric-policy),
   else shared and unmetered: no meter tells the instances apart.
4. No gateway: Foundry projects of different (or unknown) teams on the account's deployments share them, because a
   project is billed as its account (https://learn.microsoft.com/en-us/azure/ai-foundry/how-to/costs-plan-manage);
   else the account's owner isolates it; else no owner is known.
A gateway unit is one team only when a tag or a map entry says so: an untagged gateway is shared (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..analysis import consumer_dimensions, dimensions, token_metrics
from ..config import DEFAULT_OWNER_TAGS
from ..estate import AiAccount, Deployment, Estate
from ..resolve.backends import api_accounts
from ..resolve.views import ApiView
from ..usage.costcentres import CostCentreMap
from .architecture import name_architecture
from .model import (
    BY_RESOURCE,
    GATEWAY_ROLE,
    METERED,
    NO_OWNER,
    OWNED,
    SHARED,
    TEAM_GATEWAY,
    AttributionModel,
    DeploymentPath,
    Gateway,
    Owner,
)
from .owners import account_owner, deployment_owner, gateway_owner, owner_by_tag


def _metered(view: ApiView) -> tuple[bool, bool]:
    """(a token metric in every context, a consumer dimension on it in every context)."""
    if not view.effective:
        return False, False
    metric = consumer = True
    for ep in view.effective:
        found = token_metrics(ep.inbound)
        metric = metric and bool(found)
        consumer = consumer and any(consumer_dimensions(dimensions(m, ep.inbound)) for m, _ in found)
    return metric, consumer


def _unit_owner(view: ApiView, owner_tags: tuple[str, ...], centres: CostCentreMap | None) -> Owner | None:
    return gateway_owner(view.service, view.api.workspace, owner_tags, centres)


def _reaches(reach: frozenset[str], account: AiAccount) -> bool:
    return account.resource_id.lower() in reach or account.name.lower() in reach


def _gateways(views: Iterable[ApiView], owner_tags: tuple[str, ...], centres: CostCentreMap | None,
              only: frozenset[str] | None = None) -> tuple[Gateway, ...]:
    units: dict[tuple[str, str | None], dict] = {}
    for v in views:
        if only is not None and v.resource not in only:
            continue
        key = (v.service.name, v.api.workspace)
        unit = units.setdefault(key, {"owner": _unit_owner(v, owner_tags, centres), "apis": [], "metered": [],
                                      "consumer": []})
        metric, consumer = _metered(v)
        unit["apis"].append(v.resource)
        if metric:
            unit["metered"].append(v.resource)
        if consumer:
            unit["consumer"].append(v.resource)
    return tuple(Gateway(s, w, u["owner"], tuple(u["apis"]), tuple(u["metered"]), tuple(u["consumer"]))
                 for (s, w), u in units.items())


def _unmetered_apis(gateways: Iterable[Gateway]) -> str:
    missing = [a.rsplit("/", 1)[-1] for g in gateways for a in g.apis if a not in g.consumer]
    shown = ", ".join(f"'{m}'" for m in dict.fromkeys(missing[:4])) + (" and more" if len(missing) > 4 else "")
    return shown


def _projects_share(account: AiAccount, owner_tags: tuple[str, ...], account_owner: Owner | None) -> bool:
    """Several Foundry projects on the account, not all known to be one team."""
    if len(account.projects) < 2:
        return False
    owners = [owner_by_tag(p.tags, owner_tags, f"project '{p.name}'") for p in account.projects]
    teams = {o.team.lower() for o in owners if o}
    if not teams:
        return account_owner is None  # untagged projects are the account's team's, when it has one
    return len(teams) > 1 or any(o is None for o in owners)


def _path(account: AiAccount, dep: Deployment | None, gws: tuple[Gateway, ...], owner_tags: tuple[str, ...],
          centres: CostCentreMap | None) -> DeploymentPath:
    name = dep.name if dep else ""

    def made(path: str, via: str, reason: str, owner: Owner | None = None) -> DeploymentPath:
        return DeploymentPath(account=account.name, account_id=account.resource_id, deployment=name, gateways=gws,
                              projects=tuple(p.name for p in account.projects), sku=dep.sku if dep else "",
                              capacity=dep.capacity if dep else None, path=path, via=via, reason=reason, owner=owner)

    dep_owner = deployment_owner(account, dep, owner_tags, centres) if dep else None
    if dep_owner:
        return made(path=BY_RESOURCE, owner=dep_owner, via="deployment",
                              reason=f"one team owns the deployment ({dep_owner.how})")
    acct_owner = account_owner(account, owner_tags, centres)
    shared = [g for g in gws if g.owner is None]
    teams = [g for g in gws if g.owner is not None]
    if shared:
        if all(g.consumer_metered for g in shared) and all(g.fully_metered for g in teams):
            dims = ", ".join(g.label for g in gws)
            return made(path=METERED, via="gateway",
                                  reason=f"every LLM API reaching it through {dims} meters tokens per consumer")
        return made(path=SHARED, via="gateway", reason=(
            f"its spend passes the shared gateway unmetered: LLM API(s) {_unmetered_apis(gws)} have no token metric "
            "with a consumer dimension" + ("; the account's owner tag names its operator, not its consumers"
                                           if acct_owner else "")))
    if teams:
        names = {g.owner.team.lower() for g in teams if g.owner}
        if len(names) == 1:
            owner = acct_owner or next(g.owner for g in teams if g.owner is not None)
            via = "account" if acct_owner else ("workspace" if teams[0].workspace else "service")
            return made(path=BY_RESOURCE, owner=owner, via=via,
                                  reason=f"one team's gateway and account ({owner.how})")
        kind = "workspace" if any(g.workspace for g in teams) else "service"
        if all(g.fully_metered for g in teams):
            return made(path=BY_RESOURCE, via=kind, reason=(
                f"{len(teams)} {kind}s, each one team, share it; every one emits a token metric whose default "
                "Service ID / API ID tells them apart"))
        unmetered = [g.label for g in teams if not g.fully_metered]
        return made(path=SHARED, via="", reason=(
            f"{len(teams)} {kind}s, each one team, share it, but {', '.join(unmetered)} emit no token metric on "
            "every LLM API: no meter tells them apart"))
    if _projects_share(account, owner_tags, acct_owner):
        return made(path=SHARED, via="", reason=(
            f"{len(account.projects)} Foundry projects share the account's deployments and a project is billed as "
            "its account: nothing tells their spend apart"))
    if acct_owner:
        return made(path=BY_RESOURCE, owner=acct_owner, via="account",
                              reason=f"one team owns the account ({acct_owner.how})")
    return made(path=NO_OWNER, via="", reason=(
        "no owner tag, no cost-centre map entry and no gateway metering: its spend reaches no team"))


def build_model(estate: Estate, llm_views: tuple[ApiView, ...], owner_tags: tuple[str, ...] = DEFAULT_OWNER_TAGS,
                cost_centres: CostCentreMap | None = None) -> AttributionModel:
    reach = {v.resource: api_accounts(v, estate.accounts) for v in llm_views}
    deployments: list[DeploymentPath] = []
    for account in estate.accounts:
        mine = frozenset(r for r, accts in reach.items() if _reaches(accts, account))
        gws = _gateways(llm_views, owner_tags, cost_centres, mine) if mine else ()
        for dep in account.deployments or (None,):
            deployments.append(_path(account, dep, gws, owner_tags, cost_centres))
    units = _gateways(llm_views, owner_tags, cost_centres)
    roles = []
    for v in llm_views:
        unit = next(g for g in units if g.service == v.service.name and g.workspace == v.api.workspace)
        if unit.owner is None:
            roles.append((v.resource, GATEWAY_ROLE))
            continue
        reached = [d for d in deployments if v.resource in {a for g in d.gateways for a in g.apis}]
        owned = bool(reached) and all(d.path == BY_RESOURCE and d.owner is not None for d in reached)
        roles.append((v.resource, OWNED if owned else TEAM_GATEWAY))
    model = AttributionModel(tuple(deployments), units, name_architecture(tuple(deployments), units),
                             tuple(roles), tuple(owner_tags),
                             tuple((r, frozenset(a.lower() for a in accts)) for r, accts in reach.items()))
    return model

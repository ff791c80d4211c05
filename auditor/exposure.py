"""Price each finding by what it lost: the money the gap sent to no team in the usage window.

Computed once, in the engine, from the ledger (auditor/usage/ledger.py), so every report shows the same figure.
Each rule declares in its own metadata (`Rule.stake`, auditor/rules.py) which figures apply:
- the loss, which ranks the gaps: the unknown-bucket tokens through its API (or every API of its service) for
  an attribution gap; what its account served that no gateway metered for a bypass; the whole cost of an
  account or deployment no team owns; 0 where the gap cost nothing yet in the window;
- what is at risk, shown apart and never ranked or summed: everything that flowed through the resource.
Findings the usage checks priced themselves (KQ001, KQ002) keep their figure. Where nothing was metered through
the resource (an API with no token metric is invisible to the gateway query), the finding carries no figure and
says why, never a zero. Gaps whose losses count the same tokens carry the same `overlap` key, so a report can say
they do not add up. Every figure is a sum of ledger rows (whole tokens and cents, one per API), which add up to the platform
total: no figure for a subset of the tokens exceeds the figure for the whole, and a gap's cents are the cents of
the rows the tables and the FOCUS file show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

from .attribution import SHARED, AttributionModel
from .attribution.money import NO_TEAM, classify
from .context import AuditContext
from .findings import Finding, Money
from .rules import (
    LOSS_COST,
    LOSS_NONE,
    LOSS_UNKNOWN,
    LOSS_UNMETERED,
    RISK_SERVED,
    RISK_THROUGH,
    Registry,
    Stake,
)
from .usage.ledger import LedgerRow, ledger_rows
from .usage.tally import CONSUMER, OVER_METERED, UNKNOWN, UNMETERED, cents

NO_USAGE = ("no usage given: findings are ranked by severity; add --usage FILE (the export of `aoai-audit kql`) "
            "or scan live to put tokens and money on each gap")
BUILTIN = "aoai-audit"  # the distribution that ships the built-in rules (rules.py LoadedCheck.provider)
# A third-party rule that declares no stake is priced by its area's default.
AREA_STAKE = {"TM": Stake(LOSS_UNKNOWN), "HD": Stake(LOSS_UNKNOWN), "DG": Stake(LOSS_NONE, RISK_THROUGH),
              "BY": Stake(LOSS_UNMETERED, RISK_SERVED), "OW": Stake(LOSS_COST)}

_RESOURCE = re.compile(r"^service/(?P<service>[^/]+)(?:/workspaces/[^/]+)?(?:/apis/(?P<api>[^/]+))?")


def scope(resource: str) -> tuple[str, str | None, str | None] | None:
    """(service, api, account) a finding's resource names: an API, a whole service, or an AI account id (then the
    second part is the deployment a deployment id names, else None)."""
    m = _RESOURCE.match(resource)
    if m:
        return m.group("service"), m.group("api"), None
    low = resource.lower()
    if "/providers/microsoft.cognitiveservices/accounts/" in low:
        tail = resource.rstrip("/").split("/providers/", 1)[-1].split("/")
        # Microsoft.CognitiveServices/accounts/<account>[/deployments/<deployment>]
        return "", (tail[4] if len(tail) > 4 and tail[3].lower() == "deployments" else None), tail[2]
    return None


def _sum(rows: Iterable[LedgerRow]) -> tuple[int, Decimal | None, int]:
    tokens, money, unpriced = Decimal(0), Decimal(0), Decimal(0)
    for row in rows:
        tokens += row.tokens
        if not row.priced:
            unpriced += row.tokens
        else:
            money += row.money
    return round(tokens), (None if tokens and unpriced == tokens else money), round(unpriced)


def _passed_unmetered(resource: str, rows: Sequence[LedgerRow], model: AttributionModel
                      ) -> tuple[list[LedgerRow], str] | None:
    """An API (or service) the gateway metered nothing through: what its accounts served that no gateway metered,
    when the attribution model says their spend passes a shared gateway unmetered (platform − gateway). Shared by
    every LLM API in front of the same deployments, so the figure is an upper bound for one API."""
    paths = [d for d in model.by_path(SHARED) if any(g.owner is None and any(a == resource or a.startswith(resource + "/")
                                                                            for a in g.apis) for g in d.gateways)]
    if not paths:
        return None
    keys = {(d.account.lower(), d.deployment.lower()) for d in paths}
    chosen = [x for x in rows if x.bucket == UNMETERED and ((x.account.lower(), x.deployment.lower()) in keys
                                                              or (x.account.lower(), "") in keys)]
    apis = sorted({a.rsplit("/", 1)[-1] for d in paths for g in d.gateways for a in g.apis})
    names = ", ".join(sorted({d.account for d in paths}))
    return chosen, (f"tokens account(s) {names} served that passed the gateway unmetered (platform − gateway; the "
                    f"LLM API(s) {', '.join(apis[:5])} in front of them share this figure)")


def _through(resource: str, service: str, api: str | None, rows: Sequence[LedgerRow], apis: dict[str, set[str]]
             ) -> tuple[list[LedgerRow], str]:
    names = {api} if api else apis.get(service, set())
    what = f"api '{api}'" if api else f"the APIs of service '{service}'"
    return [x for x in rows if x.api in names and x.bucket in (CONSUMER, UNKNOWN)], what


def _figure(chosen: Sequence[LedgerRow], label: str, currency: str) -> tuple[int, Money | None, str]:
    tokens, money, unpriced = _sum(chosen)
    if unpriced:
        label += f" ({unpriced:,} of the tokens have no price)"
    return tokens, None if money is None else Money(cents(money), currency), label


def _loss(f: Finding, stake: Stake, rows: Sequence[LedgerRow], apis: dict[str, set[str]],
          model: AttributionModel | None) -> tuple[list[LedgerRow], str] | str | None:
    """The ledger rows the gap sent to no team and what they are; a string: why there is no figure; None: the
    gap lost nothing by itself in the window."""
    where = scope(f.resource)
    if where is None or stake.loss == LOSS_NONE:
        return None
    service, api, account = where
    if account is not None:
        deployment = api  # for an account resource, the second part names a deployment
        mine = [x for x in rows if x.account.lower() == account.lower() and x.bucket != OVER_METERED
                and (deployment is None or x.deployment.lower() == deployment.lower())]
        if stake.loss == LOSS_COST:
            return mine, (f"what deployment '{deployment}' of account '{account}' cost, charged to no team" if deployment
                          else f"everything account '{account}' served, charged to no team")
        if stake.loss == LOSS_UNMETERED:
            return ([x for x in mine if x.bucket == UNMETERED],
                    f"what account '{account}' served that no gateway metered (platform − gateway)")
        return None
    if stake.loss != LOSS_UNKNOWN:
        return None
    through, what = _through(f.resource, service, api, rows, apis)
    if through:
        return [x for x in through if x.bucket == UNKNOWN], f"tokens through {what} that went to no team"
    passed = _passed_unmetered(f.resource, rows, model) if model is not None else None
    if passed is not None:  # nothing metered through it, but the model says its spend passed the gateway
        return passed
    return (f"no usage was metered through {what} in the window; its traffic, if any, is not visible to the gateway "
            "figures (see the unmetered total)")


def _at_risk(f: Finding, stake: Stake, rows: Sequence[LedgerRow], apis: dict[str, set[str]]
             ) -> tuple[list[LedgerRow], str] | None:
    where = scope(f.resource)
    if where is None or stake.at_risk is None:
        return None
    service, api, account = where
    if account is not None:
        if stake.at_risk != RISK_SERVED:
            return None
        return ([x for x in rows if x.account.lower() == account.lower() and x.bucket != OVER_METERED],
                f"everything account '{account}' served in the window")
    through, what = _through(f.resource, service, api, rows, apis)
    return (through, f"everything the gateway metered through {what}") if through else None


def _price(f: Finding, stake: Stake, rows: Sequence[LedgerRow], apis: dict[str, set[str]], currency: str,
           model: AttributionModel | None = None) -> Finding:
    loss = _loss(f, stake, rows, apis, model)
    money: Money | None
    if isinstance(loss, str):
        return replace(f, money_basis=loss)
    if loss is None:  # nothing lost by itself in the window: 0, with what it puts at risk said apart
        tokens, money, label, overlap = 0, Money(Decimal(0), currency), "nothing went to no team through this gap " \
            "in the window", ""
    else:
        chosen, label = loss
        if model is not None:  # a loss is what went to no team: rows a resource's owner pays for are nobody's loss
            kept = [r for r in chosen if classify(r, model)[0] in NO_TEAM]
            if chosen and not kept:
                label = f"nothing went to no team: {label} is paid by the resource's owner (attributed by resource)"
            chosen = kept
        tokens, money, label = _figure(chosen, label, currency)
        overlap = f"{stake.loss}:" + label.split(" (", 1)[0] if tokens else ""
    f = replace(f, tokens=tokens, money=money, money_basis=label, overlap=overlap)
    risk = _at_risk(f, stake, rows, apis)
    if risk is not None:
        r_tokens, r_money, r_label = _figure(risk[0], risk[1], currency)
        f = replace(f, at_risk=r_money, at_risk_tokens=r_tokens, at_risk_basis=r_label)
    return f


def stake_of(rule_id: str, registry: Registry | None) -> Stake | None:
    """The rule's declared stake; a third-party rule that declares none gets its area's default, a built-in one
    none (it is not priced)."""
    check = next((c for c in registry.checks if c.rule.id == rule_id), None) if registry is not None else None
    if check is not None and (check.rule.stake is not None or check.provider == BUILTIN):
        return check.rule.stake
    return AREA_STAKE.get(rule_id.rstrip("0123456789"))


def price_findings(findings: Sequence[Finding], ctx: AuditContext, registry: Registry | None = None) -> list[Finding]:
    """Each finding with its loss (and what is at risk); unchanged when no usage was given."""
    if ctx.usage is None or not ctx.usage.ledger:
        return list(findings)
    rows = ledger_rows(ctx.usage)  # whole tokens and cents: the same rows every table and export shows
    apis: dict[str, set[str]] = {}
    for view in ctx.apis:
        apis.setdefault(view.service.name, set()).add(view.api.name)
    out = []
    for f in findings:
        if f.money is not None:  # priced by its own check (the unknown bucket, an unmapped consumer)
            out.append(f if f.money_basis else replace(f, money_basis=_OWN.get(f.rule_id, "as the check states"),
                                                       overlap=f"{f.rule_id}:{f.resource}"))
            continue
        stake = stake_of(f.rule_id, registry)
        out.append(_price(f, stake, rows, apis, ctx.usage.currency, ctx.attribution) if stake else f)
    return out


_OWN = {"KQ001": "the whole unknown bucket", "KQ002": "what this consumer used, charged to no cost centre"}


def rank_key(f: Finding) -> tuple:
    """The loss first (the dearest gap on top), then severity and the stable order; what is at risk never ranks."""
    amount = Decimal(str(f.money.amount)) if f.money is not None else Decimal(-1)
    return (-amount, *f.sort_key())


def at_stake(f: Finding) -> str:
    """One line for text and Markdown: '<money> · <tokens> tokens lost: <basis>' and what is at risk apart
    ("" when not priced)."""
    if f.tokens is None and f.money is None:
        return ""
    money = f"{f.money.currency} {cents(Decimal(str(f.money.amount))):,.2f}" if f.money else "no price"
    tokens = f" · {f.tokens:,} tokens" if f.tokens is not None else ""
    text = f"{money}{tokens} " + (f"lost: {f.money_basis}" if f.money_basis else "at stake")
    if f.at_risk_tokens is not None:
        risk = f"{f.at_risk.currency} {cents(Decimal(str(f.at_risk.amount))):,.2f}" if f.at_risk else "no price"
        text += f"; at risk (not lost): {risk} · {f.at_risk_tokens:,} tokens, {f.at_risk_basis}"
    return text

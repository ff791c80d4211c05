"""Price each finding: the tokens and money that flowed through what it concerns in the usage window.

Computed once, in the engine, from the ledger (auditor/usage/ledger.py), so every report shows the same figure.
What a finding's money is depends on the kind of gap:
- an attribution gap (token metric, dimension, caller identity, header) costs the part that went to no team:
  the unknown-bucket tokens of its API (or of every API of its service, or of the estate);
- a bypass or logging gap (BY, DG, a metric that goes nowhere, streamed usage lost) puts everything that
  flowed through it at stake: all tokens of its API, service, or (for an account) the account's own total;
- findings the usage checks priced themselves (KQ001, KQ002) keep their figure; the rest carry none.
Where nothing was metered through the resource (an API with no token metric is invisible to the gateway
query), the finding carries no figure and says why, never a zero.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

from .attribution import SHARED, AttributionModel
from .context import AuditContext
from .findings import Finding, Money
from .usage.ledger import total
from .usage.tally import CONSUMER, OVER_METERED, UNKNOWN, UNMETERED, LedgerLine, cents

UNATTRIBUTED, WHOLE, COST = "unattributed", "whole", "cost"
NO_USAGE = ("no usage given: findings are ranked by severity; add --usage FILE (the export of `aoai-audit kql`) "
            "or scan live to put tokens and money on each gap")
# Rule → which part of the traffic through its resource is at stake. Third-party rules default by area.
# None: no money at stake in the traffic itself (a legacy name, a spelling, a secret, the streamed share that
# ST002 states on its own, access and the audit's health).
KIND: dict[str, str | None] = {
    **dict.fromkeys(("TM001", "TM002", "TM003", "TM006", "TM007", "TM009", "TM010"), UNATTRIBUTED),
    **dict.fromkeys(("HD001", "HD002", "HD003"), UNATTRIBUTED),
    **dict.fromkeys(("TM008", "DG001", "DG002", "DG003", "DG004", "BY001"), WHOLE),
    **dict.fromkeys(("TM004", "TM005", "ST001", "ST002", "SEC001"), None),
    **dict.fromkeys(("OW001", "OW002"), COST),  # what the account or deployment cost: all of it reaches no team
}
AREA_KIND = {"TM": UNATTRIBUTED, "HD": UNATTRIBUTED, "DG": WHOLE, "BY": WHOLE, "OW": COST}

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


def _sum(lines: Iterable[LedgerLine]) -> tuple[int, Decimal | None, int]:
    tokens, money, unpriced = Decimal(0), Decimal(0), Decimal(0)
    for line in lines:
        tokens += line.tokens
        if line.money is None:
            unpriced += line.tokens
        else:
            money += line.money
    return round(tokens), (None if tokens and unpriced == tokens else money), round(unpriced)


def _passed_unmetered(resource: str, lines: Sequence[LedgerLine], model: AttributionModel
                      ) -> tuple[list[LedgerLine], str] | None:
    """An API (or service) the gateway metered nothing through: what its accounts served that no gateway metered,
    when the attribution model says their spend passes a shared gateway unmetered (platform − gateway). Shared by
    every LLM API in front of the same deployments, so the figure is an upper bound for one API."""
    paths = [d for d in model.by_path(SHARED) if any(g.owner is None and any(a == resource or a.startswith(resource + "/")
                                                                            for a in g.apis) for g in d.gateways)]
    if not paths:
        return None
    keys = {(d.account.lower(), d.deployment.lower()) for d in paths}
    chosen = [x for x in lines if x.bucket == UNMETERED and ((x.account.lower(), x.deployment.lower()) in keys
                                                              or (x.account.lower(), "") in keys)]
    apis = sorted({a.rsplit("/", 1)[-1] for d in paths for g in d.gateways for a in g.apis})
    names = ", ".join(sorted({d.account for d in paths}))
    return chosen, (f"tokens account(s) {names} served that passed the gateway unmetered (platform − gateway; the "
                    f"LLM API(s) {', '.join(apis[:5])} in front of them share this figure)")


def _price(f: Finding, kind: str, lines: Sequence[LedgerLine], apis: dict[str, set[str]], currency: str,
           ceiling: tuple[Decimal, Decimal], model: AttributionModel | None = None) -> Finding:
    where = scope(f.resource)
    if where is None:
        return f
    service, api, account = where
    if account is not None:
        if kind not in (WHOLE, COST):
            return f
        deployment = api  # for an account resource, the second part names a deployment
        chosen = [x for x in lines if x.account.lower() == account.lower() and x.bucket != OVER_METERED
                  and (deployment is None or x.deployment.lower() == deployment.lower())]
        label = (f"what deployment '{deployment}' of account '{account}' cost" if deployment else
                 f"everything account '{account}' served")
    else:
        names = {api} if api else apis.get(service, set())
        what = f"api '{api}'" if api else f"the APIs of service '{service}'"
        through = [x for x in lines if x.api in names and x.bucket in (CONSUMER, UNKNOWN)]
        passed = _passed_unmetered(f.resource, lines, model) if not through and kind == UNATTRIBUTED and model \
            else None
        if passed is not None:  # nothing metered through it, but the model says its spend passed the gateway
            chosen, label = passed
        elif not through:
            return replace(f, money_basis=f"no usage was metered through {what} in the window; its traffic, if "
                                          "any, is not visible to the gateway figures (see the unmetered total)")
        else:
            chosen = [x for x in through if x.bucket == UNKNOWN] if kind == UNATTRIBUTED else through
            label = (f"tokens through {what} that went to no team" if kind == UNATTRIBUTED
                     else f"everything that flowed through {what}")
    tokens, money, unpriced = _sum(chosen)
    if unpriced:
        label += f" ({unpriced:,} of the tokens have no price)"
    cap_tokens, cap_money = ceiling
    if tokens > cap_tokens or (money is not None and money > cap_money):
        # the gateway metered more than the accounts served (KQ003): nothing at stake exceeds the platform total
        tokens, money = min(tokens, round(cap_tokens)), None if money is None else min(money, cap_money)
        label += "; capped at the platform total, since the gateway metered more than the accounts served (KQ003)"
    return replace(f, tokens=tokens, money=None if money is None else Money(cents(money), currency),
                   money_basis=label)


def price_findings(findings: Sequence[Finding], ctx: AuditContext,
                   kinds: dict[str, str] | None = None) -> list[Finding]:
    """Each finding with its exposure; unchanged when no usage was given."""
    lines = ctx.usage.ledger if ctx.usage is not None else ()
    if not lines or ctx.usage is None:
        return list(findings)
    ceiling = total(lines)  # what the platform served (the lines add up to it, over-metering taken back)
    apis: dict[str, set[str]] = {}
    for view in ctx.apis:
        apis.setdefault(view.service.name, set()).add(view.api.name)
    out = []
    for f in findings:
        if f.money is not None:  # priced by its own check (the unknown bucket, an unmapped consumer)
            out.append(f if f.money_basis else replace(f, money_basis=_OWN.get(f.rule_id, "as the check states")))
            continue
        kinds_here = {**KIND, **(kinds or {})}
        kind = kinds_here[f.rule_id] if f.rule_id in kinds_here else AREA_KIND.get(f.rule_id.rstrip("0123456789"))
        out.append(_price(f, kind, lines, apis, ctx.usage.currency, ceiling, ctx.attribution) if kind else f)
    return out


_OWN = {"KQ001": "the whole unknown bucket", "KQ002": "what this consumer used, charged to no cost centre"}


def rank_key(f: Finding) -> tuple:
    """Money at stake first (the dearest gap on top), then severity and the stable order."""
    amount = Decimal(str(f.money.amount)) if f.money is not None else Decimal(-1)
    return (-amount, *f.sort_key())


def at_stake(f: Finding) -> str:
    """One line for text and Markdown: '<money> · <tokens> tokens at stake: <basis>' ("" when not priced)."""
    if f.tokens is None and f.money is None:
        return ""
    money = f"{f.money.currency} {cents(Decimal(str(f.money.amount))):,.2f}" if f.money else "no price"
    tokens = f" · {f.tokens:,} tokens" if f.tokens is not None else ""
    return f"{money}{tokens} at stake" + (f": {f.money_basis}" if f.money_basis else "")



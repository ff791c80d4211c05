"""Money by how it was attributed: each ledger line lands in one bucket by the path of its deployment.

Pure. The lines are the one ledger's rows in whole tokens and cents (auditor/usage/ledger.py ledger_rows, the
rows the money statement and the FOCUS file sum), so each bucket is a sum of cents and the buckets add up to the
ledger's total: the platform's when platform figures were given (teams + unknown + unmetered − over-metered),
else what the gateway metered. "Went to no team" is the last two buckets, labelled as such.

A line lands by its bucket in the usage (consumer, unknown, unmetered) and the path of its account/deployment:
- a consumer line (a gateway value named a consumer) is attributed at the gateway, unless the deployment is
  isolated by resource (then the resource says whose it is);
- an unknown-value line passed a metered gateway without a consumer: shared and unmetered;
- an unmetered line (platform − gateway): isolated by resource with a known owner → that owner; several team
  gateways over one account, or a shared gateway → shared and unmetered (passed the gateway unmetered, or called
  the shared account directly); no owner → no owner;
- a line whose deployment the estate does not hold: consumer lines at the gateway; unmetered lines on an account a
  shared gateway's LLM API reaches without a token metric: shared and unmetered (passed the gateway unmetered);
  the rest no owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .model import BY_RESOURCE, METERED, NO_OWNER, SHARED, AttributionModel, DeploymentPath

AT_GATEWAY = "attributed at the gateway"
BY_RESOURCE_BUCKET = "attributed by resource"
SHARED_BUCKET = "not attributable: shared and unmetered"
NO_OWNER_BUCKET = "not attributable: no owner"
OVER_BUCKET = "over-metered at the gateway (taken back)"
# Reserved PTU-hours on days a provisioned deployment served no token (auditor/usage/ptu_money.py): spent, used by no
# team; a line of its own, beside the four paths (not "went to no team": nobody's traffic went anywhere).
UNUSED_BUCKET = "unused PTU capacity (reserved hours no team used)"
BUCKETS = (AT_GATEWAY, BY_RESOURCE_BUCKET, SHARED_BUCKET, NO_OWNER_BUCKET)
NO_TEAM = (SHARED_BUCKET, NO_OWNER_BUCKET)
ZERO = Decimal(0)
# usage buckets (auditor/usage/tally.py, auditor/usage/ledger.py)
_CONSUMER, _UNKNOWN, _UNMETERED, _OVER, _PTU_UNUSED = "consumer", "unknown", "unmetered", "over-metered", "ptu-unused"
_SEEN = {_UNKNOWN: "metered with no consumer value (unknown bucket)",
         _UNMETERED: "not metered by any gateway (platform − gateway)", _CONSUMER: "metered, owner unknown"}


@dataclass(frozen=True, slots=True)
class Share:
    """Tokens and money of one bucket, or of one way within it (tag, account, deployment, service, workspace)."""

    name: str
    tokens: Decimal
    money: Decimal  # priced money only; unpriced tokens are counted apart, never as zero money
    unpriced_tokens: Decimal


@dataclass(frozen=True)
class MoneyByPath:
    buckets: tuple[Share, ...]  # the four of BUCKETS, in that order, then the unused PTU and over-metered lines if any
    by_resource: tuple[Share, ...]  # the "attributed by resource" bucket by what attributes it
    notes: tuple[str, ...]
    no_team_parts: tuple[Share, ...] = ()  # the two no-team buckets by what the gateway saw of them

    def bucket(self, name: str) -> Share:
        return next(b for b in self.buckets if b.name == name)

    @property
    def total(self) -> Share:
        return _sum("total", self.buckets)

    @property
    def no_team(self) -> Share:
        return _sum("went to no team", (b for b in self.buckets if b.name in NO_TEAM))


def _sum(name: str, shares: Iterable[Share]) -> Share:
    shares = list(shares)
    return Share(name, sum((s.tokens for s in shares), ZERO), sum((s.money for s in shares), ZERO),
                 sum((s.unpriced_tokens for s in shares), ZERO))


def _where(line, path: DeploymentPath | None) -> tuple[str, str]:
    """(bucket, how within "attributed by resource")."""
    bucket = line.bucket
    if bucket == _OVER:
        return OVER_BUCKET, ""
    if bucket == _PTU_UNUSED:
        return UNUSED_BUCKET, ""
    if path is None:
        return (AT_GATEWAY, "") if bucket == _CONSUMER else (
            (SHARED_BUCKET, "") if bucket == _UNKNOWN else (NO_OWNER_BUCKET, ""))
    if path.path == BY_RESOURCE and (path.owner is not None or bucket != _UNMETERED):
        how = path.owner.via if path.owner is not None and path.owner.via != "tag" else path.via
        return BY_RESOURCE_BUCKET, ("tag" if path.owner is not None and path.owner.via == "tag" else how)
    if bucket == _CONSUMER:
        return AT_GATEWAY, ""
    if path.path in (METERED, SHARED, BY_RESOURCE):
        return SHARED_BUCKET, ""
    if path.path == NO_OWNER:
        return NO_OWNER_BUCKET, ""
    return NO_OWNER_BUCKET, ""


def classify(line, model: AttributionModel) -> tuple[str, str, DeploymentPath | None]:
    """(money bucket, how within "attributed by resource", the deployment's path) of one ledger line. A gateway line
    on an account the estate does not hold (an APIOps extract has no accounts) lands by its API's gateway unit:
    a service or workspace that is one team attributes it by resource."""
    path = model.of_deployment(line.account, line.deployment) if (line.account or line.deployment) else None
    if path is None and line.bucket in (_CONSUMER, _UNKNOWN):
        unit = model.gateway_of_api(line.api)
        if unit is not None and unit.owner is not None:
            return BY_RESOURCE_BUCKET, "workspace" if unit.workspace else "service", None
    if path is None and line.bucket == _UNMETERED:
        units = [model.gateway_of_api(api.rsplit("/", 1)[-1]) for api in model.unmetered_apis_to(line.account)]
        if units and any(u is None or u.owner is None for u in units):
            return SHARED_BUCKET, "", None  # an account the estate does not hold, behind a shared unmetered API
    bucket, how = _where(line, path)
    return bucket, how, path


def money_by_path(lines: Iterable, model: AttributionModel) -> MoneyByPath:
    sums: dict[str, list[Decimal]] = {b: [ZERO, ZERO, ZERO] for b in (*BUCKETS, UNUSED_BUCKET, OVER_BUCKET)}
    ways: dict[str, list[Decimal]] = {}
    parts: dict[str, list[Decimal]] = {}
    unknown_accounts: set[str] = set()
    seen = list(lines)
    for line in seen:
        bucket, how, path = classify(line, model)
        if path is None and line.bucket != _OVER and (line.account or line.deployment):
            unknown_accounts.add(line.account or line.deployment)
        tokens = Decimal(line.tokens)
        part = None
        if bucket in NO_TEAM:
            part = parts.setdefault(_SEEN.get(line.bucket, line.bucket), [ZERO, ZERO, ZERO])
        for target in (sums[bucket], ways.setdefault(how, [ZERO, ZERO, ZERO]) if bucket == BY_RESOURCE_BUCKET
                       else None, part):
            if target is None:
                continue
            target[0] += tokens
            if line.money is None or not getattr(line, "priced", True):
                target[2] += tokens
            else:
                target[1] += line.money
    shares = [Share(b, *sums[b]) for b in BUCKETS]
    if sums[UNUSED_BUCKET][1] or sums[UNUSED_BUCKET][2] or any(ln.bucket == _PTU_UNUSED for ln in seen):
        shares.append(Share(UNUSED_BUCKET, *sums[UNUSED_BUCKET]))
    if sums[OVER_BUCKET][0] or sums[OVER_BUCKET][1]:
        shares.append(Share(OVER_BUCKET, *sums[OVER_BUCKET]))
    notes = []
    if unknown_accounts:
        notes.append(f"usage on account(s)/deployment(s) the estate does not hold ({', '.join(sorted(unknown_accounts)[:5])}): "
                     "their gateway-attributed tokens count at the gateway, the rest as no owner")
    return MoneyByPath(tuple(shares), tuple(Share(k or "?", *v) for k, v in sorted(ways.items())), tuple(notes),
                       tuple(Share(k, *v) for k, v in sorted(parts.items())))

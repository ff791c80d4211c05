"""Which model served a usage row, at which price: the row's own fields first, then the estate's deployments,
then a served mix (the models an API's or account's calls were served by) that a row without a model is split
across, with the range from the cheapest to the dearest model of that mix."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from ..estate import AiAccount, Deployment, Estate
from .model import DeploymentInfo, UsageRow
from .prices import MILLION, Price, PriceTable, deployment_type, model_key
from .tally import ACCOUNT_MIX, ZERO


@dataclass(frozen=True)
class Served:
    """A model as an account served it: where it lands and what it costs."""

    account: str
    deployment: str
    model: str
    version: str
    dtype: str
    region: str
    price: Price | None
    reason: str = ""  # why price is None


class Pricer:
    """Find each row's model, version, deployment type, region and account (row first, then the estate)."""

    def __init__(self, estate: Estate, prices: PriceTable, exported: tuple[DeploymentInfo, ...] = ()):
        self.prices = prices
        self.by_deployment: dict[str, list[tuple[Deployment, AiAccount]]] = defaultdict(list)
        accounts = list(estate.accounts)
        known = {a.name.lower() for a in accounts}
        for name in dict.fromkeys(d.account for d in exported if d.account.lower() not in known):
            # an exported deployments list stands in for accounts the estate does not hold
            accounts.append(AiAccount("", name, deployments=tuple(
                Deployment(d.name, d.model, d.model_version, d.sku) for d in exported if d.account == name)))
        self.accounts = {a.name.lower(): a for a in accounts}
        self.by_id = {a.resource_id.lower(): a for a in accounts if a.resource_id}
        for account in accounts:
            for d in account.deployments:
                self.by_deployment[d.name.lower()].append((d, account))
        self.missing: dict[tuple[str, str, str, str], dict] = {}
        self.platform_accounts: dict[str, set[str]] = defaultdict(set)  # deployment → accounts the platform names

    def served(self, row: UsageRow) -> Served:
        pairs = self.by_deployment.get(row.deployment.lower(), []) if row.deployment else []
        named = self.accounts.get(row.account.lower()) if row.account else None
        dep: Deployment | None
        dep, account = next(((d, a) for d, a in pairs if named is None or a is named), (None, named))
        if account is None and len(pairs) > 1 and row.region:
            dep, account = next(((d, a) for d, a in pairs if a.location.lower().replace(" ", "") ==
                                 row.region.lower().replace(" ", "")), (None, None))
        model = row.model or (dep.model if dep else "")
        # the deployment's version only for its own model: a row naming another model is not that version
        version = row.model_version or (dep.model_version if dep and (not row.model or dep.model == row.model) else "")
        dtype = deployment_type(row.deployment_type or (dep.sku if dep else "")) or "global"
        # the account's own region: the LLM log's Region is the gateway's, the platform rows carry the account's
        region = ((account.location if account else "") or row.region).lower().replace(" ", "")
        name = account.name if account is not None else row.account
        if not name and row.deployment and len(self.platform_accounts.get(row.deployment.lower(), ())) == 1:
            name = next(iter(self.platform_accounts[row.deployment.lower()]))  # the estate does not hold the account
        if not model:
            return Served(name, row.deployment, "", version, dtype, region, None, "no model")
        if dtype == "provisioned":
            return Served(name, row.deployment, model, version, dtype, region, None,
                           "provisioned throughput is billed per PTU hour, not per token")
        price = self.prices.find(model, version, dtype, region)
        return Served(name, row.deployment, model, version, dtype, region, price, "" if price else "no price in the table")

    def miss(self, s: Served, tokens: int, source: str, reason: str) -> None:
        entry = self.missing.setdefault((s.model, s.version, s.dtype, s.region),
                                        {"gateway": 0, "platform": 0, "reason": reason})
        entry[source] += tokens


@dataclass
class Mix:
    """Served models with their input and output weights; a gateway row is split across them."""

    parts: dict[Served, list[Decimal]] = field(default_factory=dict)  # served → [input, output]
    basis: str = ACCOUNT_MIX

    def add(self, served: Served, input_tokens: int, output_tokens: int) -> None:
        w = self.parts.setdefault(served, [ZERO, ZERO])
        w[0] += input_tokens
        w[1] += output_tokens

    def __bool__(self) -> bool:
        return any(w[0] or w[1] for w in self.parts.values())

    def serving(self, output_tokens: int) -> Mix:
        """A call that produced output was served by a model that produces output (not an embedding model)."""
        if not output_tokens:
            return self
        kept = {s: w for s, w in self.parts.items() if w[1]}
        return Mix(kept, self.basis) if kept else self

    def split(self, i: int, c: int, o: int) -> list[tuple[Served, Decimal, Decimal, Decimal]]:
        total_in = sum((w[0] for w in self.parts.values()), ZERO)
        total_out = sum((w[1] for w in self.parts.values()), ZERO)
        out = []
        for served, (wi, wo) in sorted(self.parts.items(), key=lambda kv: served_key(kv[0])):
            si = wi / total_in if total_in else (wo / total_out if total_out else ZERO)
            so = wo / total_out if total_out else si
            if si or so:
                out.append((served, i * si, c * si, o * so))
        return out


def served_key(s: Served) -> tuple[str, ...]:
    return (s.account, s.deployment.lower(), model_key(s.model), s.version, s.dtype, s.region)


def price_range(mix: Mix, i: Decimal, c: Decimal, o: Decimal) -> tuple[Decimal, Decimal] | None:
    """Every token at the cheapest rate the priced models of the mix charge for its kind (input, cached input,
    output), and at the dearest: bounds whatever the split between the models was."""
    prices = [s.price for s in mix.parts if s.price is not None]
    if not prices:
        return None
    cached = min(c, i)
    rates = [(p.input, p.cached_input if p.cached_input is not None else p.input, p.output) for p in prices]
    low = ((i - cached) * min(r[0] for r in rates) + cached * min(r[1] for r in rates) + o * min(r[2] for r in rates))
    high = ((i - cached) * max(r[0] for r in rates) + cached * max(r[1] for r in rates) + o * max(r[2] for r in rates))
    return low / MILLION, high / MILLION

"""The usage phase's data: tallies, consumers, reconciled lines and the summary every report formats.

Plain data and the arithmetic on it (shares, the daily split); nothing here reads, prices or scores. Money is
Decimal; nothing unpriced is ever counted as zero, and no money figure is negative.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)
CONSUMER, UNKNOWN, UNMETERED = "consumer", "unknown", "unmetered"
OVER_METERED = "over-metered"
PTU_UNUSED = "ptu-unused"  # reserved PTU-hours no team used (auditor/usage/ptu_money.py)
EXACT, API_LOG_MIX, ACCOUNT_MIX, PLATFORM_MIX, NO_MIX = (
    "model on the row", "the API's served models in its LLM log", "the served mix of the API's backend account(s)",
    "the whole platform's served mix (the API's backend account is not known)", "not priced: no model and no mix")
TOTAL_ONLY = "not priced: only a total (input and output are priced apart)"


def source_label(api: str, product: str) -> str:
    """Where unattributed tokens came through, as findings and reports name it."""
    return f"api '{api or '?'}'" + (f" via product '{product}'" if product else "")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Tally:
    tokens: int = 0
    money: Decimal = ZERO  # point estimate of the priced tokens
    unpriced_tokens: int = 0
    low: Decimal = ZERO  # range of the money: cheapest..dearest model of the mix (equal to money when exact)
    high: Decimal = ZERO

    def add(self, tokens: int, money: Decimal | None, low: Decimal | None = None, high: Decimal | None = None,
            unpriced: int | None = None) -> None:
        self.tokens += tokens
        if money is None:
            self.unpriced_tokens += tokens if unpriced is None else unpriced
            return
        self.unpriced_tokens += unpriced or 0
        self.money += money
        self.low += money if low is None else low
        self.high += money if high is None else high

    def absorb(self, other: Tally) -> None:
        self.tokens += other.tokens
        self.money += other.money
        self.unpriced_tokens += other.unpriced_tokens
        self.low += other.low
        self.high += other.high


@dataclass
class Consumer:
    value: str
    dimension: str
    tally: Tally = field(default_factory=Tally)
    cost_centre: str | None = None
    owner: str = ""
    apis: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Unpriced:
    model: str
    version: str
    deployment_type: str
    region: str
    tokens: int  # metered at the gateway (the platform's figure when the gateway saw none)
    reason: str
    source: str = "gateway"


@dataclass(frozen=True)
class Reconciliation:
    deployment: str  # "" : compared per account and day
    day: dt.date
    gateway_tokens: int
    platform_tokens: int
    account: str = ""

    @property
    def difference(self) -> int:
        return self.platform_tokens - self.gateway_tokens

    @property
    def share(self) -> float:
        base = max(self.platform_tokens, self.gateway_tokens)
        return abs(self.difference) / base if base else 0.0


@dataclass
class Line:
    """One reconciled figure: tokens and money of a day, bucket and consumer on one account, deployment, model."""

    day: dt.date
    bucket: str  # consumer, unknown, unmetered
    consumer: str
    dimension: str
    account: str  # account name ("" when no account is known)
    deployment: str
    model: str
    model_version: str
    deployment_type: str
    region: str
    input_tokens: Decimal = ZERO  # fractional where a mix split a row across models
    cached_input_tokens: Decimal = ZERO
    output_tokens: Decimal = ZERO
    money: Decimal | None = ZERO  # None: not priced
    low: Decimal | None = ZERO
    high: Decimal | None = ZERO
    basis: str = EXACT
    api: str = ""
    product: str = ""
    ptu_hours: Decimal | None = None  # reserved PTU-hours this line's money prices (usage/ptu_money.py); None: tokens

    @property
    def tokens(self) -> Decimal:
        return self.input_tokens + self.output_tokens


@dataclass
class UsageSummary:
    window: tuple[dt.date, dt.date] | None
    origin: str
    currency: str
    price_source: str
    consumers: list[Consumer]
    unknown: Tally
    unknown_sources: dict[tuple[str, str], int]  # (api, product) → tokens, most first
    unknown_markers: dict[str, tuple[str, ...]]  # dimension → the values counted as unknown
    gateway: Tally
    platform: Tally | None  # None: no platform figures were given
    streamed_tokens: int
    daily: dict[dt.date, dict[str, int]]  # day → attributed / unknown / platform tokens
    reconciliation: list[Reconciliation]
    unpriced: list[Unpriced]
    cost_centres: dict[str, Tally] | None  # None: no cost-centre map given
    unmapped: list[Consumer]
    notes: list[str]
    billed: dict[str, tuple[Decimal, str]] = field(default_factory=dict)  # account id → actual cost, currency
    lines: list[Line] = field(default_factory=list)
    unmetered: Tally | None = None  # platform − gateway where positive (None: no platform figures)
    over_metered: Tally | None = None  # gateway − platform where positive
    basis: dict[str, int] = field(default_factory=dict)  # how gateway tokens were priced → tokens
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    files: tuple[str, ...] = ()  # the usage files read (empty for live usage)
    ledger: tuple[LedgerLine, ...] = ()  # the priced lines every money figure below the totals reads (usage/ledger.py)
    ptu_unused: Tally | None = None  # reserved PTU-hours no team used (None: no priced PTU deployment)

    @property
    def base(self) -> Tally:
        """What every share is a share of: the platform total when known (it holds every reserved PTU-hour), else
        what the gateway metered plus the PTU-hours no team used (reserved, so spent whatever the gateway saw)."""
        if self.platform is not None:
            return self.platform
        if self.ptu_unused is None:
            return self.gateway
        both = Tally()
        both.absorb(self.gateway)
        both.absorb(self.ptu_unused)
        return both

    @property
    def base_label(self) -> str:
        return "platform tokens" if self.platform is not None else "gateway-metered tokens"

    def share(self, tally: Tally) -> float:
        return tally.tokens / self.base.tokens if self.base.tokens else 0.0

    def token_share(self, tokens: int) -> float | None:
        """`tokens` as a share of the base; None when the base holds no tokens (no share can be stated)."""
        return tokens / self.base.tokens if self.base.tokens else None

    def money_share(self, tally: Tally) -> float:
        return float(tally.money / self.base.money) if self.base.money else 0.0

    @property
    def unknown_share(self) -> float:
        return self.share(self.unknown)

    @property
    def unmetered_tokens(self) -> int | None:
        return None if self.unmetered is None else self.unmetered.tokens

    @property
    def unmetered_money(self) -> Decimal | None:
        return None if self.unmetered is None else self.unmetered.money

    def daily_split(self) -> list[tuple[dt.date, int, int, int]]:
        """Per day: tokens attributed to a team, in the unknown bucket, and served but not seen by the gateway
        (platform − gateway, never below zero; zero without platform figures)."""
        return [(day, d["attributed"], d["unknown"], max(d["platform"] - d["attributed"] - d["unknown"], 0))
                for day, d in self.daily.items()]


@dataclass(frozen=True)
class LedgerLine:
    """One line of the ledger: what a day, bucket and consumer cost on one account, deployment and model."""

    day: dt.date | None  # None: a window-wide figure (the summary gives no day for it)
    bucket: str  # consumer, unknown, unmetered, over-metered, ptu-unused
    consumer: str
    dimension: str
    account: str
    deployment: str
    model: str
    model_version: str
    region: str
    tokens: Decimal  # fractional only where the usage layer split a row across a served mix
    money: Decimal | None  # None: not priced (KQ004); never counted as zero
    basis: str  # how the money was found
    api: str = ""
    product: str = ""
    cost_centre: str = ""
    owner: str = ""
    ptu_hours: Decimal | None = None  # priced per reserved PTU-hour: how many of them its money is

"""Usage rows as the audit reads them, whichever way they came (live query, exported file)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from ..gaps import CollectionGap

GATEWAY, PLATFORM = "gateway", "platform"
TOKEN_METRICS_SOURCE, LLM_LOG_SOURCE = "token-metrics", "llm-log"  # the two gateway records of a call

# Values that mean "nobody": every dimension's unknown bucket holds these, plus the policy's own fallbacks.
UNKNOWN_VALUES = frozenset({"", "unknown", "null", "none", "n/a", "na", "-", "undefined", "(none)", "(not set)"})


@dataclass(frozen=True, slots=True)
class UsageRow:
    """Tokens of one day for one attribution value (gateway) or one deployment (platform)."""

    day: dt.date
    source: str = GATEWAY  # gateway: metered by APIM; platform: reported by the Azure OpenAI account
    dimension: str = ""  # the attribution dimension this row breaks down by ("Team", "Subscription ID")
    consumer: str | None = None  # its value; None when the data point did not carry the dimension
    service: str = ""
    api: str = ""
    product: str = ""
    model: str = ""
    model_version: str = ""
    deployment: str = ""
    deployment_type: str = ""  # global, datazone, regional, provisioned (empty: look it up in the estate)
    region: str = ""
    account: str = ""
    gateway_source: str = ""  # token-metrics or llm-log (gateway rows; empty: inferred, see files.py)
    input_tokens: int = 0  # includes cached input tokens
    cached_input_tokens: int = 0  # 0 where the source has no cached count: input is then priced in full
    output_tokens: int = 0  # includes reasoning tokens
    reasoning_tokens: int = 0
    total_tokens: int = 0
    streamed_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.total_tokens or (self.input_tokens + self.output_tokens)


@dataclass(frozen=True, slots=True)
class BilledCost:
    """What Cost Management says an Azure OpenAI account actually cost in the window (beside the estimate)."""

    account: str  # resource id, lower-case
    amount: Decimal
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class DeploymentInfo:
    """A deployment as an account's deployments list gives it (what prices a platform row: its SKU)."""

    account: str  # account name
    name: str
    model: str = ""
    model_version: str = ""
    sku: str = ""
    resource_id: str = ""  # the deployment's ARM id, when the list gave one


@dataclass(frozen=True, slots=True)
class AccountRef:
    """An account's ARM id as a usage file gives it (a metrics body's metric ids, a deployments list's ids): what
    the FOCUS export's ResourceId needs when the estate does not hold the account (an APIOps extract)."""

    name: str
    resource_id: str


@dataclass(frozen=True)
class UsageData:
    rows: tuple[UsageRow, ...] = ()
    window: tuple[dt.date, dt.date] | None = None  # inclusive first and last day
    origin: str = ""  # file path, or "live"
    gaps: tuple[CollectionGap, ...] = ()  # queries that failed: AU001, never a silent zero
    notes: tuple[str, ...] = ()
    billed: tuple[BilledCost, ...] = ()  # empty: not read (no Cost Management access, or offline)
    deployments: tuple[DeploymentInfo, ...] = ()  # from an exported deployments list, for estates without accounts
    accounts: tuple[AccountRef, ...] = ()  # account ids the usage files name

    def merge(self, other: UsageData) -> UsageData:
        windows = [w for w in (self.window, other.window) if w]
        origins = [o for part in (self.origin, other.origin) for o in part.split(" + ") if o]
        return UsageData(
            self.rows + other.rows,
            (min(w[0] for w in windows), max(w[1] for w in windows)) if windows else None,
            " + ".join(dict.fromkeys(origins)),
            self.gaps + other.gaps,
            self.notes + other.notes,
            self.billed + other.billed,
            self.deployments + other.deployments,
            tuple(dict.fromkeys(self.accounts + other.accounts)),
        )

    def within(self, start: dt.date, end: dt.date) -> UsageData:
        """The rows from `start` to `end` (inclusive) with the window set to it; a note counts the rows that fell
        outside, so a report never states other days' money as the window's."""
        kept = tuple(r for r in self.rows if start <= r.day <= end)
        dropped = len(self.rows) - len(kept)
        note = (f"{dropped:,} usage row(s) outside the window {start} to {end} were left out "
                f"(the files hold {self.window[0]} to {self.window[1]})") if dropped and self.window else ""
        return replace(self, rows=kept, window=(start, end), notes=self.notes + ((note,) if note else ()))

    @property
    def gateway(self) -> tuple[UsageRow, ...]:
        return tuple(r for r in self.rows if r.source == GATEWAY)

    @property
    def platform(self) -> tuple[UsageRow, ...]:
        return tuple(r for r in self.rows if r.source == PLATFORM)

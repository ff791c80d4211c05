"""The usage phase: read (files already on the estate, or live), price, tally, reconcile, into one ledger.

The pipeline runs it once, after the context is built and before the checks: what it needs from the
resolved estate (the LLM APIs, the accounts each API's backend reaches, the values its dimensions fall back
to) comes in as a `UsageScope`, so nothing here builds a context or resolves a policy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..estate import Estate
from .costcentres import CostCentreMap
from .ledger import build_ledger
from .prices import PriceTable, shipped_prices
from .score import score_usage
from .tally import UsageSummary

if TYPE_CHECKING:
    from ..resolve.views import ApiView


@dataclass(frozen=True)
class UsageScope:
    """What the usage phase takes from the resolved estate."""

    llm_apis: tuple[ApiView, ...] = ()
    accounts: tuple[frozenset[str], ...] = ()  # per LLM API, in order: the account ids its backend reaches
    markers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # dimension → its unknown values

    @property
    def api_accounts(self) -> dict[tuple[str, str], frozenset[str]]:
        """(service, API) → the account ids its backend reaches."""
        return {(v.service.name, v.api.name): a for v, a in zip(self.llm_apis, self.accounts, strict=True)}


# Reads usage live for the scope and returns the estate with it (and with any gap of that read).
LiveUsage = Callable[[Estate, UsageScope], Estate]


def run_usage(estate: Estate, scope: UsageScope, prices: PriceTable | None,
              cost_centres: CostCentreMap | None) -> UsageSummary | None:
    """Usage scored and its ledger built, once for every check and report; None when no usage was given."""
    if estate.usage is None:
        return None
    summary = score_usage(estate.usage, estate, prices or shipped_prices(), cost_centres, dict(scope.markers),
                          scope.api_accounts)
    return replace(summary, ledger=build_ledger(summary))

"""Provisioned throughput (PTU) prices and the cost of a PTU deployment over a window.

"Regional Provisioned Throughput, Data Zone Provisioned Throughput, and Global Provisioned Throughput are
billed hourly based on the number of deployed PTUs" (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/
how-to/provisioned-throughput-onboarding): the cost is PTUs × hours × the PTU-hour price, whatever the tokens.
Azure Reservations lower the hourly price (same page); the shipped prices are the hourly list prices, a
negotiated or reserved price goes in the user's price file. The Retail Prices API lists the hourly price under
skuName "Provisioned Managed Global" / "Provisioned Managed Data Zone" / "Provisioned Managed Regional"
(unitOfMeasure "1 Hour"); those are the Azure Reservation product names the provisioned deployment types map to
(same page, "Provisioned deployment type | Sku name in code | Azure Reservation product name").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .skus import PROVISIONED, classify_sku

SCOPES = ("global", "datazone", "regional")
_METER = re.compile(r"^provisioned[\s-]+managed[\s-]+(global|data[\s-]*zone|regional)(?:[\s-]+units?)?$", re.I)


class PtuPriceError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class PtuPrice:
    scope: str  # global, datazone or regional: which provisioned deployment type it prices
    region: str  # ARM region name, or "*" for any
    hourly: Decimal  # per deployed PTU per hour
    as_of: str = ""
    source: str = ""


def ptu_scope(meter: str) -> str | None:
    """A Retail Prices skuName / meterName → the provisioned scope it prices, or None."""
    m = _METER.match((meter or "").strip())
    if not m:
        return None
    word = re.sub(r"[\s-]", "", m.group(1).lower())
    return {"global": "global", "datazone": "datazone", "regional": "regional"}[word]


def find_ptu(prices: tuple[PtuPrice, ...], sku: str, region: str) -> PtuPrice | None:
    """The PTU-hour price for a provisioned deployment's SKU in its region: the region's own row, else a "*" row.
    None for a SKU that is not provisioned, or where no price is known (reported, never priced at zero)."""
    cls = classify_sku(sku)
    if cls is None or cls.billing != PROVISIONED:
        return None
    r = (region or "").lower().replace(" ", "")
    rows = [p for p in prices if p.scope == cls.scope and p.region in (r, "*")]
    return next((p for p in rows if p.region == r), None) or next(iter(rows), None)


def window_hours(first: dt.date, last: dt.date) -> int:
    """Hours in an inclusive window of whole days (UTC), as usage windows are given."""
    return ((last - first).days + 1) * 24 if last >= first else 0


def ptu_cost(prices: tuple[PtuPrice, ...], sku: str, region: str, ptus: int | None, hours: int | Decimal
             ) -> tuple[Decimal, PtuPrice] | None:
    """What a provisioned deployment costs over `hours`: PTUs × hours × the PTU-hour price, used or not. None when
    the PTU count (`Deployment.capacity`) or the price is unknown: the caller reports that, never a zero."""
    if ptus is None or ptus < 0:
        return None
    price = find_ptu(prices, sku, region)
    if price is None:
        return None
    return Decimal(ptus) * Decimal(hours) * price.hourly, price


def ptu_from_data(items: Any, origin: str) -> tuple[PtuPrice, ...]:
    """The `ptu` list of a price file: [{deployment_type: GlobalProvisionedManaged | global, region, hourly}]."""
    if items is None:
        return ()
    if not isinstance(items, list):
        raise PtuPriceError(f"{origin}: `ptu` must be a list")
    out = []
    for i, item in enumerate(items):
        where = f"{origin}: ptu[{i}]"
        if not isinstance(item, dict):
            raise PtuPriceError(f"{where}: needs deployment_type, region and hourly")
        raw = str(item.get("deployment_type", ""))
        cls = classify_sku(raw)
        scope = cls.scope if cls is not None and cls.billing == PROVISIONED else raw.strip().lower()
        if scope not in SCOPES:
            raise PtuPriceError(f"{where}: deployment_type must be a provisioned SKU (GlobalProvisionedManaged, "
                                f"DataZoneProvisionedManaged, ProvisionedManaged) or one of {', '.join(SCOPES)}")
        try:
            hourly = Decimal(str(item.get("hourly")))
        except InvalidOperation:
            raise PtuPriceError(f"{where}.hourly: not a number: {item.get('hourly')!r}") from None
        if not hourly.is_finite() or hourly < 0:
            raise PtuPriceError(f"{where}.hourly: a price must be a non-negative number")
        out.append(PtuPrice(scope, str(item.get("region", "*")).lower() or "*", hourly, str(item.get("as_of", "")),
                            str(item.get("source", ""))))
    return tuple(out)


def ptu_to_data(prices: tuple[PtuPrice, ...]) -> list[dict[str, str]]:
    return [{"deployment_type": p.scope, "region": p.region, "hourly": str(p.hourly.normalize()), "as_of": p.as_of,
             "source": p.source} for p in prices]


def ptu_from_retail_items(items: list[dict[str, Any]], as_of: str) -> tuple[PtuPrice, ...]:
    """Hourly (Consumption, "1 Hour") PTU rows of a Retail Prices API answer; reservations are not hourly prices."""
    out: dict[tuple[str, str], PtuPrice] = {}
    for item in items:
        if item.get("type") not in (None, "Consumption"):
            continue
        if str(item.get("unitOfMeasure", "")).strip().lower() != "1 hour":
            continue
        scope = ptu_scope(str(item.get("skuName") or "")) or ptu_scope(str(item.get("meterName") or ""))
        if scope is None:
            continue
        try:
            hourly = Decimal(str(item.get("retailPrice")))
        except InvalidOperation:
            continue
        region = str(item.get("armRegionName") or "*").lower()
        out[(scope, region)] = PtuPrice(scope, region, hourly, as_of,
                                        f"Retail Prices API {as_of}: {item.get('meterName') or item.get('skuName')}")
    return tuple(out[k] for k in sorted(out))

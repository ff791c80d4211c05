"""Actual cost of the Azure OpenAI accounts from Cost Management, set beside the cost estimated from prices.

One query per subscription, grouped by resource on the server (a documented read: POST .../query). Without
Cost Management Reader it is a gap naming the role, and the report shows the estimate alone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from ..estate import Estate
from .model import BilledCost
from .reader import LiveReader

COST_API = "2023-03-01"
COST_READ = "Cost Management Reader on the subscription (Microsoft.CostManagement/query/read)"
MAX_PAGES = 100


def cost_query(start: dt.date, end: dt.date) -> dict[str, Any]:
    return {
        "type": "ActualCost",
        "timeframe": "Custom",
        "timePeriod": {"from": f"{start.isoformat()}T00:00:00Z", "to": f"{end.isoformat()}T23:59:59Z"},
        "dataset": {
            "granularity": "None",
            "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
            "grouping": [{"type": "Dimension", "name": "ResourceId"}],
            "filter": {"dimensions": {"name": "ResourceType", "operator": "In",
                                      "values": ["microsoft.cognitiveservices/accounts"]}},
        },
    }


def _rows(body: Any) -> list[dict[str, Any]]:
    props = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(props, dict) or not isinstance(props.get("columns"), list):
        raise ValueError("malformed Cost Management query result")
    names = [str(c.get("name", "")) for c in props["columns"] if isinstance(c, dict)]
    return [dict(zip(names, r, strict=False)) for r in props.get("rows") or [] if isinstance(r, list)]


def _amount(value: Any) -> Decimal:
    """Cost as Decimal from the JSON number's text (never through float sums); malformed is an error."""
    try:
        amount = Decimal(str(value if value is not None else 0))
    except InvalidOperation:
        raise ValueError(f"malformed cost {value!r} in the Cost Management result") from None
    if not amount.is_finite():
        raise ValueError(f"malformed cost {value!r} in the Cost Management result")
    return amount


def _next_link(body: Any) -> str | None:
    props = body.get("properties") if isinstance(body, dict) else None
    return props.get("nextLink") if isinstance(props, dict) else None


def read_billed_cost(collector: LiveReader, estate: Estate, start: dt.date, end: dt.date) -> tuple[BilledCost, ...]:
    from azure.mgmt.apimanagement import ApiManagementClient

    wanted = {a.resource_id.lower() for a in estate.accounts}
    subs = sorted({rid.split("/")[2] for rid in wanted if rid.count("/") > 2})
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for sub in subs:
        client = ApiManagementClient(collector.credential, sub, **collector.client_kwargs())
        url = f"/subscriptions/{sub}/providers/Microsoft.CostManagement/query?api-version={COST_API}"
        collector.note(f"reading actual cost of subscription {sub}")

        def run(url=url, client=client) -> None:
            for page in collector.raw_pages(client, "POST", url, cost_query(start, end), _next_link, MAX_PAGES):
                for row in _rows(page):
                    rid = str(row.get("ResourceId", "")).lower()
                    if rid in wanted:
                        totals[(rid, str(row.get("Currency") or "USD"))] += _amount(row.get("Cost"))

        collector.read(f"/subscriptions/{sub}", COST_READ, run, None)
    return tuple(BilledCost(rid, amount, currency) for (rid, currency), amount in sorted(totals.items()))

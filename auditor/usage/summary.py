"""The usage summary as plain data: the JSON report's `usage` block and what the HTML and Markdown show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .score import Tally, UsageSummary, cents, source_label


def _money(amount: Decimal | None) -> float | None:
    return None if amount is None else float(cents(amount))


def _tally(t: Tally | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {"tokens": t.tokens, "money": _money(t.money), "unpriced_tokens": t.unpriced_tokens}


def usage_dict(u: UsageSummary) -> dict[str, Any]:
    """Team totals + unknown + unmetered = platform total, when platform figures exist."""
    return {
        "window": {"from": u.window[0].isoformat(), "to": u.window[1].isoformat()} if u.window else None,
        "origin": u.origin,
        "currency": u.currency,
        "prices": u.price_source,
        "gateway": _tally(u.gateway),
        "platform": _tally(u.platform),
        "unknown": {**_tally(u.unknown), "share": round(u.unknown_share, 4),
                    "sources": [{"where": source_label(api, product), "api": api, "product": product, "tokens": n}
                                for (api, product), n in u.unknown_sources.items()]},
        "unmetered": None if u.platform is None else {
            "tokens": u.unmetered_tokens, "money": _money(u.unmetered_money),
        },
        "streamed_tokens": u.streamed_tokens,
        "consumers": [
            {"consumer": c.value, "dimension": c.dimension, **_tally(c.tally), "cost_centre": c.cost_centre,
             "owner": c.owner, "apis": dict(sorted(c.apis.items(), key=lambda kv: -kv[1]))}
            for c in u.consumers
        ],
        "cost_centres": None if u.cost_centres is None else {k: _tally(v) for k, v in sorted(u.cost_centres.items())},
        "daily": [{"day": d.isoformat(), **v} for d, v in u.daily.items()],
        "reconciliation": [
            {"deployment": r.deployment, "day": r.day.isoformat(), "gateway_tokens": r.gateway_tokens,
             "platform_tokens": r.platform_tokens, "difference": r.difference, "share": round(r.share, 4)}
            for r in u.reconciliation
        ],
        "unpriced": [
            {"model": p.model, "version": p.version, "deployment_type": p.deployment_type, "region": p.region,
             "tokens": p.tokens, "source": p.source, "reason": p.reason}
            for p in u.unpriced
        ],
        "notes": list(u.notes),
        "billed": None if not u.billed else {
            "total": _money(sum((amount for amount, _c in u.billed.values()), Decimal(0))),
            "currency": next(iter(u.billed.values()))[1],
            "accounts": [{"account": k, "amount": _money(a), "currency": c} for k, (a, c) in sorted(u.billed.items())],
        },
    }


def headline(usage: dict[str, Any]) -> str:
    """One line for the text and Markdown reports: the figure finance asks for first."""
    cur = usage["currency"]
    base = usage["platform"] or usage["gateway"]
    total = base["tokens"] or 1
    window = f" {usage['window']['from']} to {usage['window']['to']}" if usage["window"] else ""
    unknown = usage["unknown"]
    text = (f"usage{window}: {base['tokens']:,} tokens ({cur} {base['money']:,.2f}); "
            f"{unknown['tokens'] / total:.1%} ({cur} {unknown['money']:,.2f}) went to no team")
    if usage["unmetered"] and usage["unmetered"]["tokens"]:
        text += f"; {usage['unmetered']['tokens'] / total:.1%} was not seen by the gateway"
    return text

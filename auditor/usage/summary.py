"""The usage summary as plain data: the JSON report's `usage` block and what the HTML and Markdown show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, overload

from .ledger import row_cents
from .tally import CONSUMER, OVER_METERED, UNKNOWN, UNMETERED, Line, Tally, UsageSummary, cents, source_label

EXACT_PLACES = Decimal("0.000001")


def _money(amount: Decimal | None) -> float | None:
    return None if amount is None else float(cents(amount))


def _exact(amount: Decimal | None) -> str | None:
    """Money of one line before rounding, so a sum of lines rounds to the same cent as the totals."""
    return None if amount is None else str(amount.quantize(EXACT_PLACES))


@overload
def _tally(t: Tally, u: UsageSummary | None = None, money: Decimal | None = None) -> dict[str, Any]: ...
@overload
def _tally(t: None, u: UsageSummary | None = None, money: Decimal | None = None) -> None: ...
@overload
def _tally(t: Tally | None, u: UsageSummary | None = None, money: Decimal | None = None) -> dict[str, Any] | None: ...


def _tally(t: Tally | None, u: UsageSummary | None = None, money: Decimal | None = None) -> dict[str, Any] | None:
    return None if t is None else _figures(t, u, money)


def _figures(t: Tally, u: UsageSummary | None = None, money: Decimal | None = None) -> dict[str, Any]:
    """`money`: the figure in cents as the ledger's rows sum it (what every table and the FOCUS file show)."""
    out: dict[str, Any] = {"tokens": t.tokens, "money": _money(t.money) if money is None else float(money),
                           "unpriced_tokens": t.unpriced_tokens, "money_low": _money(t.low), "money_high": _money(t.high)}
    if u is not None:  # one definition of a share everywhere: of `share_of`, in tokens and in money
        out["share"] = round(u.share(t), 4)
        out["money_share"] = round(u.money_share(t), 4)
    return out


def _plain(tokens: Decimal) -> str:
    """A token count as positional digits ("800000", "12.5"): `normalize()` alone writes 8E+5."""
    return format(tokens.quantize(EXACT_PLACES).normalize(), "f")


def _line(ln: Line) -> dict[str, Any]:
    return {"day": ln.day.isoformat(), "bucket": ln.bucket, "consumer": ln.consumer, "dimension": ln.dimension,
            "api": ln.api, "product": ln.product, "account": ln.account, "deployment": ln.deployment,
            "model": ln.model, "model_version": ln.model_version, "deployment_type": ln.deployment_type,
            "region": ln.region, "input_tokens": _plain(ln.input_tokens),
            "cached_input_tokens": _plain(ln.cached_input_tokens), "output_tokens": _plain(ln.output_tokens),
            "money": _exact(ln.money), "money_low": _exact(ln.low), "money_high": _exact(ln.high), "basis": ln.basis}


def usage_dict(u: UsageSummary) -> dict[str, Any]:
    """Team totals + unknown + unmetered = platform total, when platform figures exist; every money figure but the
    ranges is a sum of the ledger's cent rows."""
    rows = row_cents(u)
    total = sum((v for k, v in rows.items() if len(k) == 1), Decimal(0))
    gateway = rows[(CONSUMER,)] + rows[(UNKNOWN,)]
    return {
        "window": {"from": u.window[0].isoformat(), "to": u.window[1].isoformat()} if u.window else None,
        "origin": u.origin,
        "currency": u.currency,
        "prices": u.price_source,
        "share_of": u.base_label,
        "gateway": _tally(u.gateway, u, total if u.platform is None else gateway),
        "platform": _tally(u.platform, u, total),
        "unknown": {**_figures(u.unknown, u, rows[(UNKNOWN,)]),
                    "sources": [{"where": source_label(api, product), "api": api, "product": product, "tokens": n}
                                for (api, product), n in u.unknown_sources.items()]},
        "unmetered": _tally(u.unmetered, u, rows[(UNMETERED,)]),
        "over_metered": _tally(u.over_metered, u, -rows[(OVER_METERED,)]),
        "streamed_tokens": u.streamed_tokens,
        "cached_input_tokens": u.cached_input_tokens,
        "reasoning_tokens": u.reasoning_tokens,
        "basis": dict(sorted(u.basis.items())),
        "files": list(u.files),
        "consumers": [
            {"consumer": c.value, "dimension": c.dimension, **_figures(c.tally, u, rows[(CONSUMER, c.dimension, c.value)]),
             "cost_centre": c.cost_centre,
             "owner": c.owner, "apis": dict(sorted(c.apis.items(), key=lambda kv: -kv[1]))}
            for c in u.consumers
        ],
        "cost_centres": None if u.cost_centres is None else {k: _tally(v, u, rows[("cost centre", k)])
                                                             for k, v in sorted(u.cost_centres.items())},
        "daily": [{"day": d.isoformat(), **v} for d, v in u.daily.items()],
        "reconciliation": [
            {"account": r.account, "deployment": r.deployment, "day": r.day.isoformat(), "gateway_tokens": r.gateway_tokens,
             "platform_tokens": r.platform_tokens, "difference": r.difference, "share": round(r.share, 4)}
            for r in u.reconciliation
        ],
        "unpriced": [
            {"model": p.model, "version": p.version, "deployment_type": p.deployment_type, "region": p.region,
             "tokens": p.tokens, "source": p.source, "reason": p.reason}
            for p in u.unpriced
        ],
        "notes": list(u.notes),
        "lines": [_line(ln) for ln in u.lines],
        "billed": None if not u.billed else {
            "total": _money(sum((amount for amount, _c in u.billed.values()), Decimal(0))),
            "currency": next(iter(u.billed.values()))[1],
            "accounts": [{"account": k, "amount": _money(a), "currency": c} for k, (a, c) in sorted(u.billed.items())],
        },
    }


def _range(cur: str, t: dict[str, Any]) -> str:
    if t["money_low"] == t["money_high"]:
        return ""
    return f", range {cur} {t['money_low']:,.2f}..{t['money_high']:,.2f}"


def _unpriced(t: dict[str, Any]) -> str:
    return f", +{t['unpriced_tokens']:,} tokens unpriced" if t["unpriced_tokens"] else ""


def _billed(usage: dict[str, Any]) -> str:
    """What Cost Management billed the accounts (a live run with Cost Management Reader), beside the estimate:
    the money figures are priced from tokens, the bill is what was charged."""
    billed = usage.get("billed")
    if not billed:
        return ""
    return (f"; estimated from prices. Cost Management billed the {len(billed['accounts'])} account(s) "
            f"{billed['currency']} {billed['total']:,.2f} (actual cost)")


def headline(usage: dict[str, Any], by_path: dict[str, Any] | None = None) -> str:
    """One line for the text and Markdown reports: the figure finance asks for first, every share labelled.

    With the attribution model's money by path (auditor/attribution), "went to no team" is its two not-attributable
    buckets (shared and unmetered + no owner), so traffic that passed a gateway without a metric, and accounts no
    team owns, count; without it, the gateway's unknown bucket and what the gateway did not meter."""
    cur = usage["currency"]
    base = usage["platform"] or usage["gateway"]
    window = f" {usage['window']['from']} to {usage['window']['to']}" if usage["window"] else ""
    head = f"usage{window}: {base['tokens']:,} {usage['share_of']} ({cur} {base['money']:,.2f}{_unpriced(base)}{_billed(usage)}); "
    if by_path:
        nt, total = by_path["went_to_no_team"], by_path["total"]
        share = nt["tokens"] / total["tokens"] if total["tokens"] else 0.0
        shared, owner = (next(b for b in by_path["buckets"] if b["bucket"].endswith(k))
                         for k in ("shared and unmetered", "no owner"))
        return head + (f"{share:.1%} of {usage['share_of']} ({nt['tokens']:,} tokens, {cur} {nt['money']:,.2f}) went to "
                       f"no team: shared and unmetered {cur} {shared['money']:,.2f} ({shared['tokens']:,} tokens), no "
                       f"owner {cur} {owner['money']:,.2f} ({owner['tokens']:,} tokens)")
    unknown = usage["unknown"]
    text = head + (f"{unknown['share']:.1%} of {usage['share_of']} ({unknown['tokens']:,} tokens, {cur} {unknown['money']:,.2f}"
                   f"{_range(cur, unknown)}{_unpriced(unknown)}) went to no team")
    unmetered = usage.get("unmetered")
    if unmetered and unmetered["tokens"]:
        text += (f"; {unmetered['share']:.1%} of {usage['share_of']} ({unmetered['tokens']:,} tokens, {cur} {unmetered['money']:,.2f}"
                 f"{_unpriced(unmetered)}) was not metered by the gateway")
    return text

"""Formatting shared by the KQ checks: tokens and money the way a chargeback sheet writes them."""

from __future__ import annotations

from decimal import Decimal

from aoai_audit.findings import Location, Money
from aoai_audit.usage.tally import Tally, UsageSummary, cents

LIVE_USAGE = "usage/live (Log Analytics queries, Azure Monitor platform metrics)"


def tokens(n: int) -> str:
    return f"{n:,}"


def money(amount: Decimal, currency: str) -> str:
    return f"{currency} {cents(amount):,.2f}"


def usage_location(usage: UsageSummary) -> Location:
    """The usage file the figures came from, or a logical location for live usage (never "live")."""
    if usage.files:
        return Location(usage.files[0])
    return Location(resource_id=LIVE_USAGE)


def tally_text(t: Tally, currency: str) -> str:
    text = f"{tokens(t.tokens)} tokens, {money(t.money, currency)}"
    if t.low != t.high:
        text += f" (range {money(t.low, currency)}..{money(t.high, currency)})"
    if t.unpriced_tokens:
        text += f" (+{tokens(t.unpriced_tokens)} tokens with no price)"
    return text


def as_money(t: Tally, currency: str) -> Money:
    return Money(float(cents(t.money)), currency)

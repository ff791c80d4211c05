"""Formatting shared by the KQ checks: tokens and money the way a chargeback sheet writes them."""

from __future__ import annotations

from decimal import Decimal

from aoai_audit.findings import Money
from aoai_audit.usage.score import Tally, cents


def tokens(n: int) -> str:
    return f"{n:,}"


def money(amount: Decimal, currency: str) -> str:
    return f"{currency} {cents(amount):,.2f}"


def tally_text(t: Tally, currency: str) -> str:
    text = f"{tokens(t.tokens)} tokens, {money(t.money, currency)}"
    if t.unpriced_tokens:
        text += f" (+{tokens(t.unpriced_tokens)} tokens with no price)"
    return text


def as_money(t: Tally, currency: str) -> Money:
    return Money(float(cents(t.money)), currency)

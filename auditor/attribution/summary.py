"""The attribution model as plain data: the `attribution` block every report format reads (JSON, SARIF run
properties, JUnit properties, text, Markdown, HTML), so each names the same architecture and the same money."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..context import AuditContext
from ..usage.ledger import ledger_rows
from ..usage.tally import cents
from .model import DeploymentPath
from .money import (
    AT_GATEWAY,
    BY_RESOURCE_BUCKET,
    NO_OWNER_BUCKET,
    SHARED_BUCKET,
    MoneyByPath,
    Share,
    money_by_path,
)
from .statement import StatementLine, statement

EXACT = Decimal("0.000001")
CENTS_ZERO = Decimal("0.00")


def _share(s: Share) -> dict[str, Any]:
    return {"bucket": s.name, "tokens": round(s.tokens), "money": float(cents(s.money)),
            "money_exact": str(s.money.quantize(EXACT)), "unpriced_tokens": round(s.unpriced_tokens)}


def _deployment(d: DeploymentPath) -> dict[str, Any]:
    return {"account": d.account, "deployment": d.deployment, "resource": d.resource, "path": d.path, "via": d.via,
            "owner": d.owner.team if d.owner else None, "owner_how": d.owner.how if d.owner else None,
            "gateways": [g.label for g in d.gateways], "projects": list(d.projects), "sku": d.sku,
            "reason": d.reason}


def money_of(ctx: AuditContext) -> MoneyByPath | None:
    if ctx.usage is None:
        return None
    return money_by_path(ledger_rows(ctx.usage), ctx.attribution)


def attribution_dict(ctx: AuditContext) -> dict[str, Any]:
    model = ctx.attribution
    money = money_of(ctx)
    out: dict[str, Any] = {
        "architecture": model.architecture.name,
        "implication": model.architecture.implication,
        "parts": list(model.architecture.parts),
        "owner_tags": list(model.owner_tags),
        "deployments": [_deployment(d) for d in model.deployments],
        "gateways": [{"service": g.service, "workspace": g.workspace, "owner": g.owner.team if g.owner else None,
                      "owner_how": g.owner.how if g.owner else None, "llm_apis": len(g.apis),
                      "with_token_metric": len(g.metered), "with_consumer_dimension": len(g.consumer)}
                     for g in model.gateways],
        "money": None,
    }
    if money is not None:
        total, no_team = money.total, money.no_team
        out["money"] = {
            "currency": ctx.usage.currency if ctx.usage else "USD",
            "buckets": [_share(b) for b in money.buckets],
            "by_resource": [_share(s) for s in money.by_resource],
            "went_to_no_team": {**_share(no_team), "bucket": "went to no team (shared and unmetered + no owner)",
                                "parts": [_share(p) for p in money.no_team_parts]},
            "total": _share(total),
            "notes": list(money.notes),
        }
    return out


def _statement_line(ln: StatementLine) -> dict[str, Any]:
    money = ln.money if ln.money else CENTS_ZERO  # never "-0.00"
    return {"line": ln.kind, "name": ln.name, "dimension": ln.dimension, "cost_centre": ln.cost_centre,
            "owner": ln.owner, "tokens": ln.tokens, "money": str(money), "unpriced_tokens": ln.unpriced_tokens,
            "unpriced_models": list(ln.unpriced_models), "apis": list(ln.apis), "accounts": list(ln.accounts)}


def statement_dict(ctx: AuditContext) -> dict[str, Any] | None:
    """The money statement (statement.py) as JSON: money as exact decimal strings in cents, so a reader adds the
    lines up to the Total with no float in between."""
    if ctx.usage is None:
        return None
    st = statement(ctx.usage, ctx.attribution)
    return {"currency": st.currency, "total_of": st.base_label, "lines": [_statement_line(ln) for ln in st.lines],
            "total": _statement_line(st.total), "went_to_no_team": _statement_line(st.no_team)}


def statement_cells(st: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(line, how it is known, tokens, money) per line then the Total: what the text and Markdown tables print."""
    cur = st["currency"]

    def cells(ln: dict[str, Any]) -> tuple[str, str, str, str]:
        how = ln["dimension"] or ("through " + ", ".join(ln["apis"]) if ln["apis"] else "")
        if ln["accounts"]:
            how += ("; " if how else "") + "on " + ", ".join(ln["accounts"])
        if ln["cost_centre"]:
            how += ("; " if how else "") + "cost centre " + ln["cost_centre"]
        money = f"{cur} {Decimal(ln['money']):,.2f}" + (
            f" (+{ln['unpriced_tokens']:,} tokens unpriced)" if ln["unpriced_tokens"] else "")
        return ln["name"], how, f"{ln['tokens']:,}", money

    return [cells(ln) for ln in st["lines"]] + [cells({**st["total"], "name": f"total ({st['total_of']})"})]


def architecture_line(doc: dict[str, Any]) -> str:
    """One line for text and Markdown headers: the architecture and what it implies."""
    return f"architecture: {doc['architecture']}: {doc['implication']}"


def money_line(doc: dict[str, Any]) -> str:
    """The money by path in one line; every bucket labelled, the no-team sum said as such."""
    m = doc.get("money")
    if not m:
        return ""
    cur = m["currency"]
    parts = [f"{b['bucket']} {cur} {b['money']:,.2f} ({b['tokens']:,} tokens)" for b in m["buckets"]]
    nt = m["went_to_no_team"]
    of_which = "; ".join(f"{p['bucket']} {cur} {p['money']:,.2f} ({p['tokens']:,} tokens)" for p in nt["parts"])
    return (f"money by path: {'; '.join(parts)}; went to no team (the two not-attributable buckets) {cur} "
            f"{nt['money']:,.2f} ({nt['tokens']:,} tokens) of {cur} {m['total']['money']:,.2f}"
            + (f", of which {of_which}" if of_which else ""))


__all__ = ["AT_GATEWAY", "BY_RESOURCE_BUCKET", "NO_OWNER_BUCKET", "SHARED_BUCKET", "architecture_line",
           "attribution_dict", "money_line", "money_of", "statement_cells", "statement_dict"]

"""Terminal output for people: what was audited, counts, then each finding with where and how to fix it."""

from __future__ import annotations

from io import StringIO

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.text import Text

from ..attribution.summary import (
    architecture_line,
    attribution_dict,
    money_line,
    statement_cells,
    statement_dict,
)
from ..coverage import coverage
from ..engine import AuditResult
from ..exposure import NO_USAGE, at_stake
from ..rules import Registry
from ..usage.summary import headline, usage_dict
from .escape import visible

STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def indented(con: Console, text: str, style: str = "") -> None:
    """Print under the severity column, wrapped lines kept in the same column (control characters shown)."""
    con.print(Padding(Text(visible(text), style=style), (0, 0, 0, 7), expand=False))


def _safe(text: str) -> str:
    """Data inside a line that Rich reads as markup: shown, never run (no ANSI, no markup)."""
    return escape(visible(text))


def render_text(result: AuditResult, registry: Registry, color: bool = False, width: int = 110) -> str:
    buf = StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False)
    estate = result.estate
    con.print(Text("aoai-audit", style="bold"), "— cost-attribution gap report")
    for s in estate.sources:
        con.print(f"  source: {_safe(s.kind)} {_safe(s.location)}" + (f" (as {_safe(s.identity)})" if s.identity else "")
                  + (f" · {_safe(s.detail)}" if s.detail else ""))
    if estate.sources and estate.statement_level:
        con.print("  scope: statement-level audit of loose files (each statement checked on its own; AU003 and "
                  "other estate-wide rules need the whole estate)")
    cov = coverage(result.ctx)
    con.print(
        f"  APIs: {cov['apis']} ({cov['llm_apis']} LLM) · token metric {cov['llm_apis_with_token_metric']}/"
        f"{cov['llm_apis']} · consumer dimension {cov['llm_apis_with_consumer_dimension']}/{cov['llm_apis']} · "
        f"attribution header {cov['llm_apis_forwarding_attribution_header']}/{cov['llm_apis']}"
    )
    attribution = attribution_dict(result.ctx)
    con.print("  " + _safe(architecture_line(attribution)))
    if result.ctx.usage is not None:
        con.print("  " + _safe(headline(usage_dict(result.ctx.usage), attribution["money"])))
        con.print("  " + _safe(money_line(attribution)))
        st = statement_dict(result.ctx)
        if st:
            con.print(f"  money per team, down to the total ({_safe(st['total_of'])}):")
            for name, how, tokens, money in statement_cells(st):
                con.print(f"    {_safe(name)}: {_safe(money)}, {tokens} tokens" + (f" · {_safe(how)}" if how else ""))
        for note in result.ctx.usage.notes:
            con.print(f"  usage note: {_safe(note)}", style="dim")
    else:
        con.print("  " + _safe(NO_USAGE))
    counts = {s: 0 for s in ("high", "medium", "low")}
    for f in result.active:
        counts[f.severity.value] += 1
    summary = Text("  findings: ")
    for sev, n in counts.items():
        summary.append(f"{n} {sev}", style=STYLE[sev] if n else "")
        summary.append("  ")
    hidden = len(result.findings) - len(result.active)
    if hidden:
        summary.append(f"({hidden} suppressed or in baseline)")
    con.print(summary)
    not_audited = [f for f in result.active if f.not_audited]
    if not_audited:
        con.print(Text(f"  NOT AUDITED: {len(not_audited)} item(s) could not be read or parsed (see AU findings); "
                       "the gate fails on them at every threshold but 'never'", style="bold red"))
    for c in result.crashed:
        con.print(Text(f"  CHECK CRASHED: {c.rule.id} ({visible(c.error)}): the rule was not evaluated, the audit is "
                       "incomplete (exit 2)", style="bold red"))
    con.print()
    for f in result.active:
        rule = registry.rule(f.rule_id)
        head = Text()
        head.append(f"{f.severity.value.upper():6} ", style=STYLE[f.severity.value])
        head.append(f"{f.rule_id} ", style="bold")
        head.append(visible(rule.title) if rule else "")
        con.print(head)
        indented(con, f.resource + (f" ({f.context})" if f.context else ""))
        if f.location.label():
            indented(con, f"at {f.location.label()}")
        indented(con, f.message)
        if at_stake(f):
            indented(con, at_stake(f), "bold")
        for line in f.evidence[:4]:
            indented(con, f"· {line}", "dim")
        if rule:
            indented(con, f"fix: {rule.fix}", "green")
        con.print()
    suppressed = [f for f in result.findings if f.suppressed_by]
    if suppressed:
        con.print(f"suppressed ({len(suppressed)}):", style="dim")
        for f in suppressed:
            indented(con, f"{f.rule_id} {f.resource}: by {f.suppressed_by}", "dim")
    for skipped in result.not_evaluated:
        con.print(f"not evaluated: {skipped.rule.id} ({_safe(skipped.reason)})", style="dim")
    for partly in result.partly_evaluated:
        con.print(f"partly evaluated: {partly.rule.id} ({_safe(partly.reason)})", style="dim")
    for w in result.warnings:
        con.print(f"warning: {_safe(w)}", style="yellow")
    code = result.exit_code()
    con.print(Text(visible(result.verdict()), style="bold red" if code else "bold green"))
    return buf.getvalue()

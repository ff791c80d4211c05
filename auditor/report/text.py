"""Terminal output for people: what was audited, counts, then each finding with where and how to fix it."""

from __future__ import annotations

from io import StringIO

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.text import Text

from ..coverage import coverage
from ..engine import AuditResult
from ..rules import Registry
from ..usage.summary import headline, usage_dict

STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def indented(con: Console, text: str, style: str = "") -> None:
    """Print under the severity column, wrapped lines kept in the same column."""
    con.print(Padding(Text(text, style=style), (0, 0, 0, 7), expand=False))


def render_text(result: AuditResult, registry: Registry, color: bool = False, width: int = 110) -> str:
    buf = StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False)
    estate = result.estate
    con.print(Text("aoai-audit", style="bold"), "— cost-attribution gap report")
    for s in estate.sources:
        con.print(f"  source: {s.kind} {escape(s.location)}" + (f" (as {escape(s.identity)})" if s.identity else ""))
    if estate.sources and estate.statement_level:
        con.print("  scope: statement-level audit of loose files (each statement checked on its own; AU003 and "
                  "other estate-wide rules need the whole estate)")
    cov = coverage(result.ctx)
    con.print(
        f"  APIs: {cov['apis']} ({cov['llm_apis']} LLM) · token metric {cov['llm_apis_with_token_metric']}/"
        f"{cov['llm_apis']} · consumer dimension {cov['llm_apis_with_consumer_dimension']}/{cov['llm_apis']} · "
        f"attribution header {cov['llm_apis_forwarding_attribution_header']}/{cov['llm_apis']}"
    )
    if result.ctx.usage is not None:
        con.print("  " + escape(headline(usage_dict(result.ctx.usage))))
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
    not_audited = [f for f in result.active if f.rule_id in ("AU001", "AU002")]
    if not_audited:
        con.print(Text(f"  NOT AUDITED: {len(not_audited)} item(s) could not be read or parsed (see AU findings)",
                       style="bold red"))
    con.print()
    for f in result.active:
        rule = registry.rule(f.rule_id)
        head = Text()
        head.append(f"{f.severity.value.upper():6} ", style=STYLE[f.severity.value])
        head.append(f"{f.rule_id} ", style="bold")
        head.append(rule.title if rule else "")
        con.print(head)
        indented(con, f.resource + (f" ({f.context})" if f.context else ""))
        if f.location.label():
            indented(con, f"at {f.location.label()}")
        indented(con, f.message)
        for line in f.evidence[:4]:
            indented(con, f"· {line}", "dim")
        if rule:
            indented(con, f"fix: {rule.fix}", "green")
        con.print()
    for n in result.not_evaluated:
        con.print(f"not evaluated: {n.rule.id} ({n.reason})", style="dim")
    for w in result.warnings:
        con.print(f"warning: {escape(w)}", style="yellow")
    code = result.exit_code()
    if result.saw_nothing:
        verdict = "nothing could be audited: no APIM service, account or assignment was read"
    elif result.unparsed_statements:
        verdict = (f"gate FAILED: {len(result.unparsed_statements)} file(s) could not be parsed, so their statements "
                   "were not checked (see AU002)")
    elif code:
        verdict = f"gate FAILED: {len(result.failing())} finding(s) at or above '{result.settings.fail_on}'"
    else:
        verdict = f"gate passed: nothing at or above '{result.settings.fail_on}'"
    con.print(Text(verdict, style="bold red" if code else "bold green"))
    return buf.getvalue()

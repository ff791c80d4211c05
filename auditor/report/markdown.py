"""Markdown for a pull-request comment or a GitHub step summary: short, the worst first, with fixes."""

from __future__ import annotations

from ..attribution.summary import statement_cells
from ..engine import AuditResult
from ..exposure import NO_USAGE
from ..rules import Registry
from ..usage.summary import headline
from .escape import md_text, visible
from .json_report import result_dict

TOP = 15


def _cell(text: str) -> str:
    """The tool's own text (rule metadata) in a table cell: no pipes, no newlines, no HTML; Markdown kept.

    Inside a code span an entity is shown as written (GFM decodes none there), so `<base/>` stays as it is: a
    code span never becomes HTML. Outside, `<` and `>` are entities. Pipes are escaped everywhere (GFM tables)."""
    text = " ".join(visible(text, keep="\n").split())
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code span at all
        parts = [text.replace("`", "\\`")]
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part.replace("|", "\\|"))
        else:
            out.append(part.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;"))
    return "`".join(out)


def _money(f: dict) -> str:
    """The finding's money at stake, as the JSON carries it (auditor/exposure.py)."""
    if f["money"]:
        return f"{f['money']['currency']}&nbsp;{f['money']['amount']:,.2f}"
    return f"{f['tokens']:,} tokens" if f["tokens"] is not None else "—"


def _statement(st: dict | None) -> list[str]:
    """The money statement: per team, then every line that went to no team, down to the Total (its rows' sum)."""
    if not st:
        return []
    rows = statement_cells(st)
    out = ["| money per team, down to the total | how | tokens | money |", "|---|---|---:|---:|"]
    out += [f"| {md_text(a)} | {md_text(b)} | {c} | {md_text(d)} |" for a, b, c, d in rows[:-1]]
    a, b, c, d = rows[-1]
    return [*out, f"| **{md_text(a)}** | {md_text(b)} | {c} | {md_text(d)} |", ""]


def render_markdown(result: AuditResult, registry: Registry) -> str:
    doc = result_dict(result, registry)
    gate = doc["gate"]
    counts = doc["summary"]["counts"]
    cov = doc["coverage"]
    status = "❌ failed" if gate["exit_code"] else "✅ passed"
    lines = [
        "## aoai-audit: cost-attribution gaps",
        "",
        f"**Gate {status}** (fail on {gate['fail_on']}): {gate['failing']} finding(s) at or above the threshold.  ",
        f"High **{counts['high']}** · medium **{counts['medium']}** · low **{counts['low']}**"
        f" · suppressed {doc['summary']['suppressed']} · in baseline {doc['summary']['in_baseline']}",
        "",
        "| coverage of LLM APIs | |",
        "|---|---|",
        f"| effective token metric | {cov['llm_apis_with_token_metric']}/{cov['llm_apis']} |",
        f"| consumer dimension | {cov['llm_apis_with_consumer_dimension']}/{cov['llm_apis']} |",
        f"| attribution header forwarded | {cov['llm_apis_forwarding_attribution_header']}/{cov['llm_apis']} |",
        "",
    ]
    lines += [f"**Architecture: {md_text(doc['attribution']['architecture'])}.** "
              f"{md_text(doc['attribution']['implication'])}", ""]
    if doc.get("usage"):
        line = headline(doc["usage"], doc["attribution"]["money"])
        lines += [f"**{md_text(line[0].upper() + line[1:])}**", ""]
        money = doc["attribution"]["money"]
        if money:
            cur = money["currency"]
            lines += ["| money by path | tokens | money |", "|---|---:|---:|"]
            lines += [f"| {md_text(b['bucket'])} | {b['tokens']:,} | {cur} {b['money']:,.2f} |" for b in money["buckets"]]
            nt, total = money["went_to_no_team"], money["total"]
            lines += [f"| went to no team (shared and unmetered + no owner) | {nt['tokens']:,} | {cur} {nt['money']:,.2f} |",
                      f"| **total** | {total['tokens']:,} | {cur} {total['money']:,.2f} |", ""]
        lines += _statement(doc["usage"]["statement"])
        lines += [f"<sub>Usage note: {md_text(n)}.</sub>  " for n in doc["usage"]["notes"]] + (
            [""] if doc["usage"]["notes"] else [])
    else:
        lines += [f"<sub>{md_text(NO_USAGE[0].upper() + NO_USAGE[1:])}.</sub>", ""]
    for c in doc["crashed_checks"]:
        lines += [f"**Check crashed: {md_text(c['rule_id'])}** ({md_text(c['error'])}): the rule was not evaluated, "
                  "the audit is incomplete (exit 2).", ""]
    unread = [f for f in doc["findings"] if f["not_audited"] and not f["suppressed_by"]]
    if unread:
        lines += [f"**Could not audit ({len(unread)}):** " + "; ".join(md_text(f["message"]) for f in unread[:5]), ""]
    active = [f for f in doc["findings"] if not f["suppressed_by"]]
    if active:
        lines += ["| sev | rule | at stake | resource | where | finding | fix |", "|---|---|---|---|---|---|---|"]
        for f in active[:TOP]:
            loc = f["location"]
            where = f"{loc['path']}:{loc['line']}" if loc["path"] and loc["line"] else (loc["path"] or "")
            link = f"[{md_text(f['rule_id'])}]({f['docs_url']})" if f["docs_url"] else md_text(f["rule_id"])
            lines.append(
                f"| {f['severity']} | {link} | {_money(f)} | {md_text(f['resource'])} | {md_text(where)} | {md_text(f['message'])} "
                f"| {_cell(f['fix'])} |"
            )
        if len(active) > TOP:
            lines.append(f"\n…and {len(active) - TOP} more; see the full HTML or SARIF report.")
    else:
        lines.append("No findings.")
    suppressed = [f for f in doc["findings"] if f["suppressed_by"]]
    if suppressed:
        lines += ["", f"<details><summary>Suppressed ({len(suppressed)})</summary>", "",
                  "| rule | resource | suppressed by |", "|---|---|---|"]
        lines += [f"| {md_text(f['rule_id'])} | {md_text(f['resource'])} | {md_text(f['suppressed_by'])} |"
                  for f in suppressed]
        lines += ["", "</details>"]
    if doc["warnings"]:
        lines += [""] + [f"- warning: {md_text(w)}" for w in doc["warnings"]]
    if doc["not_evaluated"]:
        ids = ", ".join(md_text(n["rule_id"]) for n in doc["not_evaluated"])
        lines += ["", f"<sub>Not evaluated for these inputs: {ids}.</sub>"]
    for n in doc.get("partly_evaluated", ()):
        lines += ["", f"<sub>Partly evaluated: {md_text(n['rule_id'])}: {md_text(n['reason'])}.</sub>"]
    return "\n".join(lines) + "\n"

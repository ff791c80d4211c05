"""The HTML gap report: one self-contained file, safe to open from a mail attachment on an offline machine.

Everything comes from the JSON result (`result_dict`) plus what only the estate knows (policy excerpts,
redacted as read); the page adds no facts of its own. jinja2 autoescapes every value; inline CSS and JS
are pinned by hashes in a strict Content-Security-Policy, and nothing is loaded from anywhere.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter, defaultdict
from decimal import Decimal
from importlib import resources
from typing import Any

import jinja2

from ..attribution.model import AttributionModel
from ..attribution.statement import TEAM, Statement, statement
from ..engine import AuditResult, inputs_named, not_carried_by
from ..exposure import NO_USAGE
from ..rules import AREAS, CHAIN_LINKS, Registry
from ..usage.tally import UsageSummary
from .chain import chains, rule_matrix
from .chart import daily_chart
from .diff import diff_reports
from .excerpt import excerpt, policy_lines
from .json_report import result_dict
from .wrap import break_after_slashes

SEVERITIES = ("high", "medium", "low")
# A report must open and filter smoothly in a browser at 10,000 APIs: past these, the page shows the first
# findings of each rule and the APIs with the most broken links, and says where the full list is.
FINDINGS_PER_RULE = 100
TABLE_ROWS = 1000

def _fmt_money(amount: float | None, currency: str) -> str:
    return "—" if amount is None else f"{currency} {amount:,.2f}"


def _table_rows(statement: Statement, centres: bool) -> list[dict[str, Any]]:
    """The per-team table: the money statement's lines (auditor/attribution/statement.py), each the sum of the
    ledger's cent rows the FOCUS file holds, so the lines add up to the Total and each equals the FOCUS file's
    to the cent; what went to no team is split by where it was lost, and over-metering is a negative line."""
    rows = []
    for ln in statement.lines:
        how = ln.dimension or ("through " + ", ".join(ln.apis) if ln.apis else "—")
        rows.append({"name": ln.name, "bucket": ln.kind, "dimension": how, "tokens": ln.tokens, "cents": ln.money,
                     "unpriced": ln.unpriced_tokens, "accounts": ln.accounts,
                     "cost_centre": ln.cost_centre or ("—" if centres and ln.kind == TEAM else ""), "owner": ln.owner,
                     "money": _fmt_money(float(ln.money), statement.currency)})
    return rows


def _usage_view(usage: dict[str, Any] | None, summary: UsageSummary | None, model: AttributionModel,
                unknown_threshold: float) -> dict[str, Any] | None:
    if not usage or summary is None:
        return None
    cur = usage["currency"]
    rows = _table_rows(statement(summary, model), usage["cost_centres"] is not None)

    def share(n: int) -> str:
        fraction = summary.token_share(n)
        return "—" if fraction is None else f"{fraction:.1%}"

    return {
        **usage,
        "rows": rows,
        "total": sum(r["tokens"] for r in rows),
        "total_money": sum((r["cents"] for r in rows), Decimal(0)),
        "total_unpriced": sum(r["unpriced"] for r in rows),
        "share": share,
        "money": lambda amount: _fmt_money(amount, cur),
        "chart": daily_chart(summary.daily_split()),
        "mismatches": [r for r in usage["reconciliation"] if r["share"] > 0],
        "unknown_threshold": unknown_threshold,
        # an estate with no LLM API has no gateway: no unknown bucket to show, and "not metered by the gateway"
        # would read as a gap where each account's owner pays (money by path says who)
        "has_gateway": bool(model.gateways),
    }


def _top_gaps(priced: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dearest losses, one entry per set of tokens: gaps whose losses count the same tokens (the same
    `overlap` key) are one entry that names them all, so no two figures of the list count a token twice over."""
    out: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    for f in priced:
        key = f.get("overlap") or f["fingerprint"]
        if key in seen:
            seen[key]["same_tokens"].append(f)
            continue
        seen[key] = {**f, "same_tokens": []}
        out.append(seen[key])
    return out


def _headline(usage: dict[str, Any] | None, by_path: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The first screen's money: what went to no team, as shares of tokens and of money, each with its base.

    Formats the usage block as auditor/usage/summary.py writes it (its `share`, `money_share` and `share_of`),
    so the figure is the one the text, Markdown and JSON reports and KQ001 give."""
    if not usage:
        return None
    cur = usage["currency"]
    base = usage["platform"] or usage["gateway"]
    unknown = usage["unknown"]
    if by_path:  # the attribution model's two not-attributable buckets: what really went to no team
        nt = by_path["went_to_no_team"]
        unknown = {"tokens": nt["tokens"], "money": nt["money"],
                   "share": nt["tokens"] / by_path["total"]["tokens"] if by_path["total"]["tokens"] else 0.0,
                   "money_share": nt["money"] / by_path["total"]["money"] if by_path["total"]["money"] else 0.0}
    share_of, token_share, money_share = usage["share_of"], unknown["share"], unknown["money_share"]
    low, high = unknown.get("money_low"), unknown.get("money_high")
    billed = usage.get("billed")
    own = (usage.get("statement") or {}).get("went_to_no_team") if by_path else None
    return {
        "window": usage["window"],
        "money": _fmt_money(unknown["money"], cur),
        "range": None if low is None or low == high else f"{_fmt_money(low, cur)} to {_fmt_money(high, cur)}",
        "money_share": f"{money_share:.1%}",
        "money_base": ("estimated platform cost " if usage["platform"] else "estimated cost metered at the gateway ")
        + _fmt_money(base["money"], cur),
        "tokens": f"{unknown['tokens']:,}",
        "token_share": f"{token_share:.1%}",
        "share_of": share_of,
        "base_tokens": f"{base['tokens']:,}",
        # the box quotes its own unpriced tokens (the statement's no-team lines), not the platform's
        "unpriced": own["unpriced_tokens"] if own else unknown.get("unpriced_tokens", 0),
        "unpriced_models": own["unpriced_models"] if own else [],
        "billed": None if not billed else f"{billed['currency']} {billed['total']:,.2f}",
    }


def _not_evaluated(doc: dict[str, Any], rules_by_id: dict[str, Any]) -> list[dict[str, Any]]:
    """Rules not evaluated, one line per rule family: what the input kind cannot carry is not an alarm."""
    families: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n in doc["not_evaluated"]:
        rule = rules_by_id.get(n["rule_id"])
        families[rule.area if rule else n["rule_id"].rstrip("0123456789")].append(n)
    carried = set(doc["carries"])
    inputs = inputs_named((s["kind"] for s in doc["sources"]), doc.get("usage") is not None)
    out = []
    for area in list(AREAS) + sorted(set(families) - set(AREAS)):
        items = families.get(area)
        if not items:
            continue
        needs = sorted({k for n in items if n["rule_id"] in rules_by_id for k in rules_by_id[n["rule_id"]].requires}
                       - carried)
        summary = f"needs {', '.join(needs)}, which {not_carried_by(inputs)}" if needs else items[0]["reason"]
        out.append({"area": area, "title": AREAS.get(area, area), "rules": [n["rule_id"] for n in items],
                    "entries": items, "summary": summary})
    return out


def _changes(previous: dict[str, Any] | None, doc: dict[str, Any]) -> dict[str, Any] | None:
    """What changed since the previous run, by rule and resource (report/diff.py's logic, not a second copy)."""
    if previous is None:
        return None
    d = diff_reports(previous, doc)
    money = None
    if d.unattributed is not None:
        u = d.unattributed
        money = {"before": _fmt_money(u.before, u.currency), "after": _fmt_money(u.after, u.currency),
                 "delta": ("+" if u.delta > 0 else "−" if u.delta < 0 else "±") + _fmt_money(abs(u.delta), u.currency),
                 "worse": u.delta > 0, "better": u.delta < 0}
    return {"new": d.new, "fixed": d.fixed, "changed": d.changed, "unchanged": d.unchanged, "money": money}


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["paths"] = break_after_slashes
    return env


def _load_template(name: str) -> str:
    return resources.files("aoai_audit.report_templates").joinpath(name).read_text(encoding="utf-8")


def build_model(result: AuditResult, registry: Registry, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = result_dict(result, registry)
    rules_by_id = {c.rule.id: c.rule for c in registry.checks}
    excerpts = policy_lines(result)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    shown: Counter[str] = Counter()
    hidden: dict[str, Counter[str]] = defaultdict(Counter)
    order = {f["fingerprint"]: i for i, f in enumerate(doc["findings"])}  # the engine's rank: money, then severity
    for f in doc["findings"]:
        rule = rules_by_id.get(f["rule_id"])
        if shown[f["rule_id"]] >= FINDINGS_PER_RULE:
            hidden[rule.area if rule else f["rule_id"][:2]][f["rule_id"]] += 1
            continue
        shown[f["rule_id"]] += 1
        area = rule.area if rule else f["rule_id"][:2]
        item = dict(f)
        item["area"] = area
        item["rationale"] = rule.rationale if rule else ""
        item["fix_snippet"] = rule.fix_snippet if rule else ""
        item["excerpt"] = excerpt(excerpts.get(f["location"]["path"] or ""), f["location"]["line"])
        groups[area].append(item)
    areas = [
        {"key": key, "title": AREAS.get(key, key), "findings": groups[key],
         "resources": sorted({f["resource"] for f in groups[key]}),
         "hidden": sorted(hidden[key].items())}
        for key in list(AREAS) + sorted(set(groups) - set(AREAS))
        if groups.get(key)
    ]
    ranked = [f for area in areas for f in area["findings"]]
    ranked.sort(key=lambda f: order[f["fingerprint"]])
    priced = [f for f in ranked if f["money"] and f["money"]["amount"] > 0 and not f["suppressed_by"]
              and not f["in_baseline"]]
    all_chains = sorted(chains(doc, registry.rules), key=lambda row: -row["broken"])
    not_audited = [f for f in doc["findings"] if (f["not_audited"] or f["rule_id"].startswith("AU"))
                   and not f["suppressed_by"]]
    matrix_rules = [r for r in doc["rules"] if not r["id"].startswith(("AU", "KQ"))]  # not per-API rules
    matrix = rule_matrix(doc, matrix_rules)
    return {
        "doc": doc,
        "severities": SEVERITIES,
        "areas": areas,
        "area_names": {a["key"]: a["title"] for a in areas},
        "not_audited": not_audited,
        "suppressed": [f for f in doc["findings"] if f["suppressed_by"]],
        "chains": all_chains[:TABLE_ROWS],
        "chain_labels": [label for _key, label in CHAIN_LINKS],
        "matrix_rules": matrix_rules,
        "matrix": matrix[:TABLE_ROWS],
        "table_rows": TABLE_ROWS,
        "findings_per_rule": FINDINGS_PER_RULE,
        "truncated": {"chains": max(len(all_chains) - TABLE_ROWS, 0), "matrix": max(len(matrix) - TABLE_ROWS, 0),
                      "apis": max(len(doc["apis"]) - TABLE_ROWS, 0),
                      "findings": sum(sum(c.values()) for c in hidden.values())},
        "changes": _changes(previous, doc),
        "ranked": ranked,
        "top_gaps": _top_gaps(priced)[:3],
        "headline": _headline(doc.get("usage"), (doc.get("attribution") or {}).get("money")),
        "no_usage": NO_USAGE,
        "not_evaluated": _not_evaluated(doc, rules_by_id),
        "services": sorted({a["service"] for a in doc["apis"]}),
        "usage": _usage_view(doc.get("usage"), result.ctx.usage, result.ctx.attribution,
                             result.settings.unknown_share_threshold),
    }


def render_html(result: AuditResult, registry: Registry, previous: dict[str, Any] | None = None) -> str:
    env = _environment()
    style = _load_template("report.css")
    script = _load_template("report.js")
    csp = (
        "default-src 'none'; "
        f"style-src {_csp_hash(style)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    model = build_model(result, registry, previous)
    return env.get_template("report.html.j2").render(**model, style=style, script=script, csp=csp)

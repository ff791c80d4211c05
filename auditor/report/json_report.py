"""JSON output: the machine-readable result every other tool (diff, baselines, dashboards) reads.

Deterministic: same input, same bytes, apart from `generated_at`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from .. import __version__
from ..attribution.summary import attribution_dict, statement_dict
from ..coverage import coverage
from ..engine import AuditResult
from ..findings import Finding
from ..rules import Registry
from ..usage.summary import usage_dict
from ..usage.tally import cents

SCHEMA_VERSION = 1


def money_dict(f: Finding) -> dict[str, Any] | None:
    """A finding's money at stake, in cents, as JSON and SARIF write it."""
    if f.money is None:
        return None
    return {"amount": float(cents(Decimal(str(f.money.amount)))), "currency": f.money.currency}


def finding_dict(f: Finding, registry: Registry | None) -> dict[str, Any]:
    rule = registry.rule(f.rule_id) if registry else None
    return {
        "rule_id": f.rule_id,
        "severity": f.severity.value,
        "title": rule.title if rule else "",
        "resource": f.resource,
        "context": f.context,
        "message": f.message,
        "location": {"path": f.location.path, "line": f.location.line, "resource_id": f.location.resource_id},
        "evidence": list(f.evidence),
        "fix": rule.fix if rule else "",
        "docs_url": rule.docs_url if rule else "",
        "tokens": f.tokens,
        "money": money_dict(f),
        "money_basis": f.money_basis,  # what the tokens and money are: the loss (auditor/exposure.py)
        "at_risk": None if f.at_risk_tokens is None else {
            "tokens": f.at_risk_tokens, "money": None if f.at_risk is None else float(cents(Decimal(str(f.at_risk.amount)))),
            "basis": f.at_risk_basis},
        "overlap": f.overlap,  # findings with the same key count the same tokens: their losses do not add up
        "fingerprint": f.fingerprint,
        "suppressed_by": f.suppressed_by,
        "in_baseline": f.in_baseline,
        "not_audited": f.not_audited,
    }


def result_dict(result: AuditResult, registry: Registry | None = None, generated_at: str | None = None) -> dict:
    counts = {s: 0 for s in ("high", "medium", "low")}
    for f in result.active:
        counts[f.severity.value] += 1
    ctx = result.ctx
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "aoai-audit", "version": __version__},
        "generated_at": generated_at or result.started.isoformat(timespec="seconds"),
        "gate": {
            "fail_on": result.settings.fail_on,
            "exit_code": result.exit_code(),
            "failing": len(result.failing()),
        },
        "sources": [
            {"kind": s.kind, "location": s.location, "carries": sorted(s.carries), "identity": s.identity,
             "detail": s.detail}
            for s in result.estate.sources
        ],
        # what the inputs carry together (usage and the cost-centre map included): what decides a rule runs
        "carries": sorted(result.carries),
        "summary": {
            "counts": counts,
            "suppressed": sum(1 for f in result.findings if f.suppressed_by),
            "in_baseline": sum(1 for f in result.findings if f.in_baseline and not f.suppressed_by),
            "services": len(result.estate.services),
        },
        "coverage": coverage(ctx),
        "attribution": attribution_dict(ctx),  # architecture, each deployment's path, money by path
        "scope": "statements" if result.estate.statement_level else "estate",
        "apis": [
            {
                "resource": v.resource,
                "service": v.service.name,
                "api": v.api.name,
                "display_name": v.api.display_name,
                "is_llm": v.verdict.is_llm,
                "llm_reasons": list(v.verdict.reasons),
                "classification_overridden": v.verdict.overridden,
                "operations": len(v.api.operations),
            }
            for v in ctx.apis
        ],
        "rules": [{"id": r.id, "title": r.title, "severity": r.severity.value} for r in result.rules],
        "not_evaluated": [{"rule_id": n.rule.id, "reason": n.reason} for n in result.not_evaluated],
        **({"partly_evaluated": [{"rule_id": n.rule.id, "reason": n.reason} for n in result.partly_evaluated]}
           if result.partly_evaluated else {}),
        "crashed_checks": [{"rule_id": c.rule.id, "error": c.error} for c in result.crashed],
        # the money statement: per team down to the platform total, every line, from the ledger's rows
        "usage": {**usage_dict(ctx.usage), "statement": statement_dict(ctx)} if ctx.usage is not None else None,
        "findings": [finding_dict(f, registry) for f in result.findings],
        "warnings": list(result.warnings),
    }


def write_json(result: AuditResult, registry: Registry | None, fh) -> None:
    """Stream the report into an open text file: at 10,000 APIs the one-string form costs ~100 MB more."""
    json.dump(result_dict(result, registry), fh, indent=2, sort_keys=False, ensure_ascii=False)
    fh.write("\n")


def render_json(result: AuditResult, registry: Registry | None = None, generated_at: str | None = None) -> str:
    return json.dumps(result_dict(result, registry, generated_at), indent=2, sort_keys=False, ensure_ascii=False) + "\n"

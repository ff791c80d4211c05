"""SARIF 2.1.0 for GitHub code scanning and Azure DevOps: one rule entry per rule, stable fingerprints."""

from __future__ import annotations

import json
import os
from typing import Any

from .. import __version__
from ..attribution.summary import attribution_dict
from ..docs import rule_markdown
from ..engine import AuditResult
from ..findings import Finding
from ..project_root import find_project_root, project_path, uri_reference
from ..rules import Registry, Rule
from .json_report import money_dict

LEVEL = {"high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"high": "8.0", "medium": "5.0", "low": "2.0"}
INFORMATION_URI = "https://github.com/aoai-audit/aoai-audit"
SRCROOT = "%SRCROOT%"


def _rule(rule: Rule) -> dict:
    return {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.title.replace("<", "").replace(">", "").replace("/", " ").split()
                        if w.isalnum()) or rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "helpUri": rule.docs_url,
        "help": {"text": f"{rule.rationale}\n\nFix: {rule.fix}", "markdown": rule_markdown(rule)},
        "defaultConfiguration": {"level": LEVEL[rule.severity.value]},
        "properties": {
            "tags": ["finops", "cost-attribution", rule.area_title.lower()],
            "security-severity": SECURITY_SEVERITY[rule.severity.value],
        },
    }


def _artifact_uri(path: str, project_root: str) -> str:
    """The file as GitHub and Azure DevOps find it: a percent-encoded URI reference relative to the repository
    root. GitHub resolves a relative `artifactLocation.uri` from the repository root and ignores
    `originalUriBaseIds` (GitHub docs "SARIF support for code scanning"; github/codeql-action #1147, #2215);
    a raw space is not a valid URI reference and fails the SARIF schema's `format: uri-reference` (#684)."""
    return uri_reference(project_path(path, project_root))


def _portable(text: str, project_root: str) -> str:
    """Messages and evidence quote paths as they were typed; an absolute one loses the machine's part."""
    return text.replace(project_root.rstrip("/\\") + os.sep, "") if project_root else text


def _result(f: Finding, index: dict[str, int], project_root: str) -> dict:
    location: dict = {"logicalLocations": [{"fullyQualifiedName": _portable(f.resource, project_root),
                                            "kind": "resource"}]}
    if f.location.path:
        # region.startLine on every result about a file: code scanning needs a line to place the annotation
        # (the whole-file findings point at its first line)
        location["physicalLocation"] = {
            "artifactLocation": {"uri": _artifact_uri(f.location.path, project_root), "uriBaseId": SRCROOT},
            "region": {"startLine": f.location.line or 1},
        }
    elif f.location.resource_id:
        location["logicalLocations"].append({"fullyQualifiedName": f.location.resource_id, "kind": "resource"})
    message = f.message + (f" ({f.context})" if f.context and f.context not in f.message else "")
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": LEVEL[f.severity.value],
        "message": {"text": _portable(message, project_root)},
        "locations": [location],
        "partialFingerprints": {"aoaiAuditFinding/v1": f.fingerprint},
        "properties": {"evidence": [_portable(e, project_root) for e in f.evidence]} if f.evidence else {},
    }
    if f.tokens is not None or f.money is not None:  # what the gap puts at stake (auditor/exposure.py)
        result["properties"].update({"tokens": f.tokens, "money": money_dict(f), "moneyBasis": f.money_basis,
                                     "atRisk": {"tokens": f.at_risk_tokens, "money": None if f.at_risk is None else
                                                float(f.at_risk.amount), "basis": f.at_risk_basis}
                                     if f.at_risk_tokens is not None else None})
    if f.rule_id in index:
        result["ruleIndex"] = index[f.rule_id]
    if f.suppressed_by:
        kind = "inSource" if f.suppressed_by.startswith("inline") else "external"
        result["suppressions"] = [{"kind": kind, "justification": _portable(f.suppressed_by, project_root)}]
    if f.in_baseline:
        result["baselineState"] = "unchanged"
    return result


def _invocation(result: AuditResult, index: dict[str, int]) -> dict:
    """Whether every selected check ran. SARIF 2.1.0 Appendix I ("detecting incomplete result sets"):
    executionSuccessful false, or a toolExecutionNotification at level error, means the results are not complete."""
    notes = []
    for c in result.crashed:
        ref = {"id": c.rule.id, **({"index": index[c.rule.id]} if c.rule.id in index else {})}
        notes.append({"level": "error", "descriptor": {"id": "check-crashed"}, "associatedRule": ref,
                      "message": {"text": f"the check for {c.rule.id} crashed ({c.error}); the rule was not evaluated"}})
    for rule_id in result.unloaded:
        notes.append({"level": "error", "descriptor": {"id": "check-not-loaded"}, "associatedRule": {"id": rule_id},
                      "message": {"text": f"the check for {rule_id} failed to load; the rule was not evaluated"}})
    out: dict = {"executionSuccessful": not result.incomplete, "exitCode": result.exit_code()}
    if notes:
        out["toolExecutionNotifications"] = notes
    if result.warnings:  # expired suppressions, inline ones without a reason, plugins that did not load
        out["toolConfigurationNotifications"] = [{"level": "warning", "message": {"text": w}} for w in result.warnings]
    return out


def _attribution(result: AuditResult) -> dict:
    """The architecture and money by path as run properties (SARIF 2.1.0 §3.8 property bags)."""
    doc = attribution_dict(result.ctx)
    return {"architecture": doc["architecture"], "implication": doc["implication"], "parts": doc["parts"],
            "moneyByPath": doc["money"]}


def render_sarif(result: AuditResult, registry: Registry) -> str:
    rules = list(result.rules)
    for f in result.findings:  # a rule that only a plugin knows, or one crashed in loading
        if f.rule_id not in {r.id for r in rules} and (known := registry.rule(f.rule_id)) is not None:
            rules.append(known)
    index = {r.id: i for i, r in enumerate(rules)}
    project_root = result.project_root or find_project_root(result.estate.root)
    run = {
        "tool": {
            "driver": {
                "name": "aoai-audit",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(r) for r in rules],
            }
        },
        # No absolute path of the machine: the base is described, not located (SARIF 2.1.0 §3.14.14 allows an
        # originalUriBaseIds entry without a uri); consumers resolve from the repository root.
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The repository root (git top level of the scanned "
                                                                 "path; the working directory without one)"}}},
        "invocations": [_invocation(result, index)],
        "results": [_result(f, index, project_root) for f in result.findings],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "notEvaluated": [{"ruleId": n.rule.id, "reason": n.reason} for n in result.not_evaluated],
            "attribution": _attribution(result),
        },
    }
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

"""SARIF 2.1.0 for GitHub code scanning and Azure DevOps: one rule entry per rule, stable fingerprints."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .. import __version__
from ..docs import rule_markdown
from ..engine import AuditResult
from ..findings import Finding
from ..rules import Registry, Rule

LEVEL = {"high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"high": "8.0", "medium": "5.0", "low": "2.0"}
INFORMATION_URI = "https://github.com/aoai-audit/aoai-audit"


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


def _relative(path: str, root: str) -> str:
    """Path relative to the scanned root (what code scanning maps to the repository), else as given."""
    if not root:
        return Path(path).as_posix()
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    return Path(path if rel.startswith("..") else rel).as_posix()


def _result(f: Finding, index: dict[str, int], root: str) -> dict:
    location: dict = {"logicalLocations": [{"fullyQualifiedName": f.resource, "kind": "resource"}]}
    if f.location.path:
        physical: dict = {"artifactLocation": {"uri": _relative(f.location.path, root), "uriBaseId": "SRCROOT"}}
        if f.location.line:
            physical["region"] = {"startLine": f.location.line}
        location["physicalLocation"] = physical
    elif f.location.resource_id:
        location["logicalLocations"].append({"fullyQualifiedName": f.location.resource_id, "kind": "resource"})
    message = f.message + (f" ({f.context})" if f.context and f.context not in f.message else "")
    result = {
        "ruleId": f.rule_id,
        "level": LEVEL[f.severity.value],
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {"aoaiAuditFinding/v1": f.fingerprint},
        "properties": {"evidence": list(f.evidence)} if f.evidence else {},
    }
    if f.rule_id in index:
        result["ruleIndex"] = index[f.rule_id]
    if f.suppressed_by:
        kind = "inSource" if f.suppressed_by.startswith("inline") else "external"
        result["suppressions"] = [{"kind": kind, "justification": f.suppressed_by}]
    if f.in_baseline:
        result["baselineState"] = "unchanged"
    return result


def render_sarif(result: AuditResult, registry: Registry) -> str:
    rules = list(result.rules)
    for f in result.findings:  # a rule that only a plugin knows, or one crashed in loading
        if f.rule_id not in {r.id for r in rules} and registry.rule(f.rule_id):
            rules.append(registry.rule(f.rule_id))
    index = {r.id: i for i, r in enumerate(rules)}
    root = result.estate.root
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
        "originalUriBaseIds": {
            "SRCROOT": {"uri": Path(os.path.abspath(root or ".")).as_uri().rstrip("/") + "/"}
        },
        "results": [_result(f, index, root) for f in result.findings],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "notEvaluated": [{"ruleId": n.rule.id, "reason": n.reason} for n in result.not_evaluated],
        },
    }
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

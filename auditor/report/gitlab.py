"""GitLab Code Quality report (`artifacts:reports:codequality`), so findings show in the merge request widget.

The format is GitLab's subset of the Code Climate issue spec: a JSON array of objects with `description`,
`check_name`, `fingerprint`, `severity` (info, minor, major, critical, blocker) and `location.path` +
`location.lines.begin`; other properties are ignored by GitLab.
Source: https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format
"""

from __future__ import annotations

import hashlib
import json
import os

from ..engine import AuditResult
from ..findings import Finding
from ..project_root import find_project_root, is_file_path, project_path
from ..rules import Registry

# GitLab's severities, lowest to highest (same source). A gap that fails the gate is shown as `critical` at any
# rule severity, so the widget ranks what blocks the merge first; what the tool could not do is a `blocker`;
# a suppressed or baselined finding is `info`.
SEVERITY = {"low": "minor", "medium": "major", "high": "critical"}


def _path(f: Finding, project_root: str, scanned: str) -> str:
    """GitLab wants a path relative to the repository. A finding about no file names its Azure resource (a live
    one); one about the whole estate (no file, no resource id) points at the scanned folder or file."""
    if f.location.path:
        return project_path(f.location.path, project_root)
    if is_file_path(f.resource):
        return project_path(f.resource, project_root)
    return f.location.resource_id or scanned


def _issue(f: Finding, failing: bool, project_root: str, scanned: str) -> dict:
    message = f.message + (f" ({f.context})" if f.context and f.context not in f.message else "")
    if not f.active:  # GitLab has no suppressed state: shown at `info`, saying by what, never dropped
        message += f" [suppressed by {f.suppressed_by or 'the baseline'}]"
    return {
        "description": f"{f.rule_id}: {message}",
        "check_name": f.rule_id,
        "fingerprint": f.fingerprint,
        "severity": "critical" if failing else SEVERITY[f.severity.value] if f.active else "info",
        "location": {"path": _path(f, project_root, scanned), "lines": {"begin": f.location.line or 1}},
    }


def _tool_issue(rule_id: str, text: str, scanned: str, kind: str = "incomplete") -> dict:
    """A check that did not run is a finding of its own (`blocker`): the widget must not look clean when the audit
    was not. A warning (an expired suppression, an inline one without a reason) is an `info` entry."""
    return {
        "description": f"{rule_id}: {text}",
        "check_name": f"aoai-audit/{kind}",
        "fingerprint": hashlib.sha256(f"{kind}\x1f{rule_id}\x1f{text}".encode()).hexdigest()[:16],
        "severity": "blocker" if kind == "incomplete" else "info",
        "location": {"path": scanned, "lines": {"begin": 1}},
    }


def render_gitlab(result: AuditResult, registry: Registry) -> str:
    """Every finding; suppressed and baselined ones at `info` with what suppressed them, so the widget shows what
    the gate let through as every other format does."""
    project_root = result.project_root or find_project_root(result.estate.root)
    root = result.estate.root
    scanned = project_path(root, project_root) if root and os.path.exists(root) else "."
    failing = set(result.failing())
    issues = [_issue(f, f in failing, project_root, scanned) for f in result.findings]
    issues += [_tool_issue(c.rule.id, f"the check crashed ({c.error}); the rule was not evaluated", scanned)
               for c in result.crashed]
    issues += [_tool_issue(rule_id, "the check failed to load; the rule was not evaluated", scanned)
               for rule_id in result.unloaded]
    if result.saw_nothing or result.nothing_parsed:  # exit 2: nothing was audited
        issues.append(_tool_issue("aoai-audit", result.verdict(), scanned))
    issues += [_tool_issue("warning", w, scanned, kind="warning") for w in dict.fromkeys(result.warnings)]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"

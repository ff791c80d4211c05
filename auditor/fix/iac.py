"""ARM templates and Terraform plans are generated (their source is Bicep or HCL): the fix never edits the JSON.
For each finding it would repair, it names the statement and where it goes, for a person to put in the source.
"""

from __future__ import annotations

from ..engine import AuditResult
from .conventions import fragment_include, read_conventions
from .model import Statement

_EDITABLE = ("apiops", "policy-files")


def _in_iac(result: AuditResult, path: str | None) -> bool:
    return bool(path) and path.lower().endswith((".json", ".json.gz"))  # type: ignore[union-attr]


def iac_statements(result: AuditResult, rules: list[str]) -> list[Statement]:
    ctx = result.ctx
    out: list[Statement] = []
    for f in result.findings:
        if f.rule_id not in rules or not _in_iac(result, f.location.path):
            continue
        where = f"{f.location.label()} (the policy of {f.resource})"
        if f.rule_id == "TM007":
            out.append(Statement(f.rule_id, f.resource, f"first in <inbound> of {where}", "<base />"))
        elif f.rule_id == "TM004":
            out.append(Statement(f.rule_id, f.resource, where, "rename <azure-openai-emit-token-metric> to "
                                 "<llm-emit-token-metric> (start and end tag; attributes and dimensions unchanged)"))
        elif f.rule_id == "TM006":
            out.append(Statement(f.rule_id, f.resource, where,
                                 "remove a <dimension> only where it exactly repeats another"))
        elif f.rule_id in ("TM001", "HD001"):
            view = next((v for v in ctx.llm_apis if v.resource == f.resource), None)
            if view is None:
                continue
            conv = read_conventions(ctx, view.service, view.api.workspace)
            frags = conv.metric_fragments if f.rule_id == "TM001" else conv.header_fragments
            statement = fragment_include(frags[0]) if frags else (
                conv.metric_statement() if f.rule_id == "TM001" else None)
            if statement:
                out.append(Statement(f.rule_id, f.resource, f"last in <inbound> of {where}", statement))
    return out

"""AU002: a policy or input file could not be parsed (or a fragment include could not be resolved)."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.findings import Location, Severity
from aoai_audit.rules import Rule

RULE = Rule(
    id="AU002",
    title="Input could not be parsed: not audited",
    severity=Severity.MEDIUM,
    rationale=(
        "A policy the tool cannot read is a policy whose token metric, dimensions and headers nobody checked. "
        "Findings computed without it may be wrong in either direction: the effective policy is computed as if "
        "that scope had no policy."
    ),
    detection=(
        "Policies are read as the gateway reads rawxml (raw quotes, generics and `&&` inside expressions are "
        "fine). What remains broken (mismatched tags, unclosed expressions, DTDs or entities, binary or "
        "oversized files, invalid JSON, an `<include-fragment>` naming a fragment that does not exist or that "
        "includes itself) is reported with file and line."
    ),
    fix="Fix the file at the line given (APIM would reject it too), or export it again with the extractor.",
    not_audited=True,
)


def check(ctx: AuditContext):
    for gap in ctx.estate.gaps:
        if gap.kind != "unparseable":
            continue
        is_file = not gap.target.startswith("/subscriptions/")
        yield RULE.finding(
            gap.resource or gap.target,
            f"not audited: {gap.message}",
            location=Location(gap.target if is_file else None, gap.line, None if is_file else gap.target),
            key=gap.message,
        )
    for resource, policy in ctx.policies():
        if policy.error is not None:
            yield RULE.finding(
                resource,
                f"not audited: {policy.origin.scope or policy.scope}: {policy.error.message}",
                location=ctx.location(policy.origin, policy.error.line),
                key=policy.error.message,
            )
    seen = set()
    for view in ctx.apis:
        for issue in view.issues:
            key = (issue.message, issue.origin.path, issue.origin.line)
            if key in seen:
                continue
            seen.add(key)
            yield RULE.finding(
                view.resource,
                f"not audited: {issue.message}",
                location=ctx.location(issue.origin),
                key=issue.message,
            )

"""AU001: something could not be read; the audit fails closed on it."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.findings import Location, Severity
from aoai_audit.rules import Rule

RULE = Rule(
    id="AU001",
    title="Could not be read: not audited",
    severity=Severity.HIGH,
    rationale=(
        "What the audit cannot read it cannot judge. A gate that passes because a 403 hid the policies, or a "
        "throttled call dropped a service, would certify an estate nobody looked at."
    ),
    detection=(
        "Every read that failed (HTTP 401/403/404, throttled past retries, timeout, malformed response, "
        "an unreadable file) is recorded while collecting and reported here with the resource and the "
        "permission that would fix it."
    ),
    fix="Grant the reading identity the role named in the finding (Reader on the APIM service and AI accounts, "
    "Monitoring Reader for diagnostic settings and metrics, Log Analytics Reader on workspaces), or fix the "
    "file permissions, then run the audit again.",
    references=(
        ("Azure built-in roles", "https://learn.microsoft.com/azure/role-based-access-control/built-in-roles"),
        ("ARM throttling", "https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling"),
    ),
    not_audited=True,
)


def check(ctx: AuditContext):
    for gap in ctx.estate.gaps:
        if gap.kind != "unreadable":
            continue
        status = f"{gap.status}: " if gap.status else ""
        needs = f"; needs {gap.needs}" if gap.needs else ""
        is_file = not gap.target.startswith("/subscriptions/") and "://" not in gap.target
        yield RULE.finding(
            gap.resource or gap.target,
            f"not audited: {status}{gap.message}{needs}",
            location=Location(gap.target if is_file else None, gap.line, None if is_file else gap.target),
            key=gap.message,
        )

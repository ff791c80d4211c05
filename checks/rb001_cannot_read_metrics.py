"""RB001: the identity that builds the chargeback cannot read the token metrics."""

from __future__ import annotations

from collections.abc import Iterator

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_READER, CARRIES_ROLES
from aoai_audit.findings import Finding, Severity
from aoai_audit.roles import METRICS_READ
from aoai_audit.rules import Rule

from . import _refs
from ._access import lacking, lacking_finding, metric_homes

RULE = Rule(
    id="RB001",
    title="Reporting principal cannot read the token metrics",
    severity=Severity.HIGH,
    rationale=(
        "The chargeback job reads the custom token metrics from Application Insights (or Azure Monitor). If its "
        "identity lacks `Microsoft.Insights/metrics/read` there, the job gets 403s or, worse, empty results that "
        "look like zero usage: the sheet is produced, and it is wrong."
    ),
    detection=(
        "The reader principal's role assignments (at the resource or any scope above it) are resolved to their "
        "effective actions, built-in and custom roles alike, minus `notActions`; each place the token metrics "
        "live (Application Insights components behind the APIM loggers, or the APIM service) must be covered "
        "by an action matching `Microsoft.Insights/metrics/read`. "
        "Where the principal's role assignments could not be listed, or a role covering the resource could not be "
        "read, nothing is reported here: unknown is not none, and AU001 names the failed read."
    ),
    fix="Grant Monitoring Reader (or a custom role with Microsoft.Insights/metrics/read) where the metrics live.",
    fix_snippet="""az role assignment create --assignee <reader-object-id> \\
  --role "Monitoring Reader" \\
  --scope /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Insights/components/<app-insights>""",
    references=(_refs.AZURE_RBAC_BUILTIN, _refs.APP_INSIGHTS),
    requires=frozenset({CARRIES_ROLES, CARRIES_READER}),
    chain_link="destination",
)


def check(ctx: AuditContext) -> Iterator[Finding]:
    for acc, home in lacking(ctx, metric_homes(ctx), lambda acc, home: acc.can(METRICS_READ, home)):
        yield lacking_finding(
            RULE, acc, home,
            f"reader principal {acc.principal} cannot read metrics on {home.rsplit('/', 1)[-1]} "
            f"(no role grants {METRICS_READ} there); token metrics cannot be collected for chargeback",
        )

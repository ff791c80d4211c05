"""RB004: the reporting principal can change what it reports on."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_READER, CARRIES_ROLES
from aoai_audit.findings import Location, Severity
from aoai_audit.roles import ASSIGN_ROLES, WRITE_PROBE, grants
from aoai_audit.rules import Rule

from . import _refs
from ._access import access

RULE = Rule(
    id="RB004",
    title="Reporting principal holds far more than read access",
    severity=Severity.LOW,
    rationale=(
        "A chargeback job needs to read. An identity with Owner, Contributor or User Access Administrator can "
        "change the policies whose output it reports, or grant itself more; its credential (often a secret in a "
        "pipeline) becomes a path to rewrite attribution or the estate."
    ),
    detection=(
        "Each of the reader principal's assignments is judged by effective actions: a role that can write "
        "resources (e.g. `Microsoft.ApiManagement/service/apis/write`) or assign roles "
        "(`Microsoft.Authorization/roleAssignments/write`) fires, whatever its name."
    ),
    fix="Replace the broad role with Reader-level roles: Monitoring Reader, Log Analytics Reader, Cost Management Reader.",
    fix_snippet="""az role assignment delete --assignee <reader-object-id> --role Contributor --scope <scope>
az role assignment create --assignee <reader-object-id> --role "Monitoring Reader" --scope <scope>""",
    references=(_refs.AZURE_RBAC_BUILTIN,),
    requires=frozenset({CARRIES_ROLES, CARRIES_READER}),
)


def check(ctx: AuditContext):
    acc = access(ctx)
    for assignment in acc.assignments:
        role = acc.role(assignment)
        if role is None:
            continue
        can = [what for action, what in ((WRITE_PROBE, "write resources"), (ASSIGN_ROLES, "assign roles"))
               if grants(role, action)]
        if not can:
            continue
        yield RULE.finding(
            assignment.scope,
            f"reader principal {acc.principal} holds '{role.name}' at {assignment.scope}, which can "
            f"{' and '.join(can)}; a reporting identity needs read access only",
            location=Location(assignment.origin.path, assignment.origin.line, assignment.scope),
            key=role.id,
        )

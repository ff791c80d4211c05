"""Azure Monitor and access control read live: diagnostic settings of services and accounts, and the reading
principal's role assignments with the definitions they grant."""

from __future__ import annotations

from functools import partial

from ...estate import DiagnosticSetting, LogSetting, RoleAssignment, RoleDefinition
from ...policy.tree import Origin
from .session import LiveSession

MONITOR_READ = "Reader or Monitoring Reader on the resource (Microsoft.Insights/diagnosticSettings/read)"

ROLES_READ = "Reader on the subscription (Microsoft.Authorization/roleAssignments/read)"



def diagnostic_settings(s: LiveSession, monitor, resource_id: str) -> list[DiagnosticSetting]:
    items = s.listed(resource_id, MONITOR_READ, lambda: monitor.diagnostic_settings.list(resource_id))
    return [
        DiagnosticSetting(
            resource_id, s.name, s.workspace_id,
            tuple(LogSetting(x.category, getattr(x, "category_group", None), bool(x.enabled)) for x in s.logs or []),
            tuple(LogSetting(x.category, None, bool(x.enabled)) for x in s.metrics or []),
            getattr(s, "log_analytics_destination_type", None),
            Origin(None, None, s.id, f"diagnostic setting '{s.name}'"),
        )
        for s in items
    ]


def role_assignments(s: LiveSession, auth, sub: str, principal: str, definitions: dict[str, RoleDefinition]) -> list[RoleAssignment]:
    scope = f"/subscriptions/{sub}"
    items = s.listed(scope, ROLES_READ, lambda: auth.role_assignments.list_for_subscription(
        filter=f"principalId eq '{principal}'"))
    out = []
    for ra in items:
        out.append(RoleAssignment(ra.scope or scope, ra.role_definition_id, ra.principal_id or principal,
                                  str(ra.principal_type or ""), Origin(None, None, ra.id, "role assignment")))
        guid = ra.role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()
        if guid not in definitions:
            rd = s.read(ra.role_definition_id, ROLES_READ,
                           partial(auth.role_definitions.get_by_id, ra.role_definition_id), None)
            if rd is not None:
                perms = rd.permissions or []
                definitions[guid] = RoleDefinition(
                    guid, rd.role_name or guid,
                    tuple(a for p in perms for a in (p.actions or [])),
                    tuple(a for p in perms for a in (p.not_actions or [])),
                    tuple(a for p in perms for a in (p.data_actions or [])),
                )
    return out

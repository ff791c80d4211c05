"""What a principal may do where: effective actions from role assignments, built-in and custom roles.

Role checks judge actions, not role names: a custom role with `Microsoft.Insights/metrics/read` is as good
as Monitoring Reader, and `*/read` covers everything readable. Assignments inherit downwards (a
subscription-scope assignment covers every resource in it).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from .estate import Estate, RoleAssignment, RoleDefinition

# Built-in roles the checks reason about, ids and actions as Microsoft's built-in roles reference lists them
# (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles). Custom roles come from the estate.
_SUPPORT = "Microsoft.Support/*"
BUILTIN_ROLES = {
    r.id: r
    for r in (
        RoleDefinition("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", ("*",)),
        RoleDefinition(
            "b24988ac-6180-42a0-ab88-20f7382dd24c",
            "Contributor",
            ("*",),
            (
                "Microsoft.Authorization/*/Delete",
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/elevateAccess/Action",
                "Microsoft.Blueprint/blueprintAssignments/write",
                "Microsoft.Blueprint/blueprintAssignments/delete",
                "Microsoft.Compute/galleries/share/action",
                "Microsoft.Purview/consents/write",
                "Microsoft.Purview/consents/delete",
                "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
                "Microsoft.Subscription/cancel/action",
                "Microsoft.Subscription/enable/action",
            ),
        ),
        RoleDefinition(
            "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
            "User Access Administrator",
            ("*/read", "Microsoft.Authorization/*", _SUPPORT),
        ),
        RoleDefinition("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", ("*/read",)),
        RoleDefinition(
            "43d0d8ad-25c7-4714-9337-8ba259a9fe05",
            "Monitoring Reader",
            ("*/read", "Microsoft.OperationalInsights/workspaces/search/action", _SUPPORT),
        ),
        RoleDefinition(
            "73c42c96-874c-492b-b04d-ab87d138a893",
            "Log Analytics Reader",
            (
                "*/read",
                "Microsoft.OperationalInsights/workspaces/analytics/query/action",
                "Microsoft.OperationalInsights/workspaces/search/action",
                _SUPPORT,
            ),
            ("Microsoft.OperationalInsights/workspaces/sharedKeys/read",),
        ),
        RoleDefinition(
            "72fafb9e-0641-4937-9268-a91bfd8191a3",
            "Cost Management Reader",
            (
                "Microsoft.Consumption/*/read",
                "Microsoft.CostManagement/*/read",
                "Microsoft.Billing/billingPeriods/read",
                "Microsoft.Resources/subscriptions/read",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                _SUPPORT,
                "Microsoft.Advisor/configurations/read",
                "Microsoft.Advisor/recommendations/read",
                "Microsoft.Management/managementGroups/read",
                "Microsoft.Billing/billingProperty/read",
            ),
        ),
        RoleDefinition(
            "71522526-b88f-4d52-b57f-d31fc3546d0d",
            "API Management Service Reader Role",
            (
                "Microsoft.ApiManagement/service/*/read",
                "Microsoft.ApiManagement/service/read",
                "Microsoft.Authorization/*/read",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.ResourceHealth/availabilityStatuses/read",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                _SUPPORT,
            ),
            ("Microsoft.ApiManagement/service/users/keys/read",),
        ),
    )
}
BY_NAME = {r.name.lower(): r for r in BUILTIN_ROLES.values()}

# Actions the checks ask about
METRICS_READ = "Microsoft.Insights/metrics/read"
COST_READ = "Microsoft.CostManagement/query/read"
LOGS_QUERY = "Microsoft.OperationalInsights/workspaces/query/read"
ASSIGN_ROLES = "Microsoft.Authorization/roleAssignments/write"
WRITE_PROBE = "Microsoft.ApiManagement/service/apis/write"


def role_guid(role_definition_id: str) -> str:
    """A role reference as a lower-case GUID; a name (Terraform's role_definition_name) maps to its id."""
    ref = role_definition_id.strip()
    by_name = BY_NAME.get(ref.lower())
    if by_name:
        return by_name.id
    return ref.rstrip("/").rsplit("/", 1)[-1].lower()


def _matches(action: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def grants(role: RoleDefinition, action: str) -> bool:
    return any(_matches(action, a) for a in role.actions) and not any(_matches(action, n) for n in role.not_actions)


def covers(scope: str, resource_id: str) -> bool:
    """An assignment at `scope` applies to `resource_id` (same or below it); `/` is the root."""
    s = scope.rstrip("/").lower()
    r = resource_id.rstrip("/").lower()
    return s == "" or r == s or r.startswith(s + "/")


def subscription_of(resource_id: str) -> str | None:
    parts = resource_id.strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return f"/subscriptions/{parts[1]}"
    return None


@dataclass(frozen=True)
class Access:
    """The reader principal's assignments and the role definitions to judge them by."""

    principal: str
    assignments: tuple[RoleAssignment, ...]
    roles: dict[str, RoleDefinition]

    @classmethod
    def of(cls, estate: Estate, principal: str) -> Access:
        roles = dict(BUILTIN_ROLES)
        roles.update({role_guid(r.id): r for r in estate.role_definitions})
        mine = tuple(a for a in estate.role_assignments if a.principal_id.lower() == principal.lower())
        return cls(principal, mine, roles)

    def role(self, assignment: RoleAssignment) -> RoleDefinition | None:
        return self.roles.get(role_guid(assignment.role_definition_id))

    def granting(self, action: str, resource_id: str) -> list[tuple[RoleAssignment, RoleDefinition]]:
        out = []
        for a in self.assignments:
            role = self.role(a)
            if role is not None and covers(a.scope, resource_id) and grants(role, action):
                out.append((a, role))
        return out

    def can(self, action: str, resource_id: str) -> bool:
        return bool(self.granting(action, resource_id))

    def describe(self) -> str:
        if not self.assignments:
            return f"principal {self.principal} has no role assignments in the estate"
        parts = []
        for a in self.assignments:
            role = self.role(a)
            parts.append(f"{role.name if role else 'unknown role ' + role_guid(a.role_definition_id)} at {a.scope}")
        return f"principal {self.principal} holds: " + "; ".join(parts)

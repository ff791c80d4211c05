"""Who owns a resource: an owner tag (names configurable) or a cost-centre map entry keyed by the resource.

Tag names are case-insensitive in Azure, and Cost Management groups cost by the tags on each resource's usage
records; tags on a resource group or subscription reach those records only with tag inheritance turned on
(https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/tag-resources,
https://learn.microsoft.com/en-us/azure/cost-management-billing/costs/enable-tag-inheritance), so only the
resource's own tags count here. A tag names one team only where the resource is not shared: paths.py decides
that (a shared gateway or several Foundry projects in front of the account make the tag its operator's, not
its consumers').
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..estate import AiAccount, ApimService, Deployment, Tags
from ..usage.costcentres import CostCentre, CostCentreMap
from .model import Owner

_SEP = re.compile(r"[\s_.\-]+")
# Values that name nobody (a placeholder left in a template): never an owner.
_NOBODY = frozenset({"", "unknown", "none", "null", "n/a", "na", "tbd", "todo", "shared", "-"})


def norm_tag(name: str) -> str:
    return _SEP.sub("", name).lower()


def owner_by_tag(tags: Tags, owner_tags: Iterable[str], what: str) -> Owner | None:
    """The first owner tag (in the configured order) with a real value."""
    wanted = [norm_tag(t) for t in owner_tags]
    found = {norm_tag(k): (k, v.strip()) for k, v in tags}
    for name in wanted:
        if name in found and found[name][1].lower() not in _NOBODY:
            key, value = found[name]
            return Owner(value, "tag", f"tag '{key}={value}' on {what}")
    return None


def _mapped(entry: CostCentre | None, kind: str, what: str) -> Owner | None:
    if entry is None:
        return None
    key = f"{entry.kind} '{entry.value}'"
    return Owner(entry.cost_centre, kind, f"cost-centre map entry {key} for {what}")


def account_owner(account: AiAccount, owner_tags: tuple[str, ...], centres: CostCentreMap | None) -> Owner | None:
    what = f"account '{account.name}'"
    return owner_by_tag(account.tags, owner_tags, what) or (
        centres is not None and _mapped(centres.of_account(account.name, account.resource_id, account.tags),
                                        "account", what)) or None


def deployment_owner(account: AiAccount, dep: Deployment, owner_tags: tuple[str, ...],
                     centres: CostCentreMap | None) -> Owner | None:
    what = f"deployment '{dep.name}' of account '{account.name}'"
    return owner_by_tag(dep.tags, owner_tags, what) or (
        centres is not None and _mapped(centres.of_deployment(account.name, dep.name, dep.tags), "deployment",
                                        what)) or None


def gateway_owner(service: ApimService, workspace: str | None, owner_tags: tuple[str, ...],
                  centres: CostCentreMap | None) -> Owner | None:
    """An APIM service, or one workspace of it, that is one team."""
    if workspace:
        ws = next((w for w in service.workspaces if w.name == workspace), None)
        tags = ws.tags if ws else ()
        what = f"workspace '{workspace}' of APIM service '{service.name}'"
        return owner_by_tag(tags, owner_tags, what) or (
            centres is not None and _mapped(centres.of_workspace(service.name, workspace, tags), "workspace",
                                            what)) or None
    what = f"APIM service '{service.name}'"
    return owner_by_tag(service.tags, owner_tags, what) or (
        centres is not None and _mapped(centres.of_service(service.name, service.resource_id, service.tags),
                                        "service", what)) or None

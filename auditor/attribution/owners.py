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

import fnmatch
import re
from collections.abc import Iterable

from ..estate import Tags
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


def owner_by_map(cost_centres: object, kind: str, names: Iterable[str], what: str) -> Owner | None:
    """A cost-centre map entry keyed by this resource (kind account, deployment, service or workspace)."""
    entries = getattr(cost_centres, "entries", ()) or ()
    keys = [n.lower() for n in names if n]
    for entry in entries:
        if getattr(entry, "kind", "") != kind:
            continue
        pattern = str(getattr(entry, "value", "")).lower()
        if any(fnmatch.fnmatchcase(k, pattern) for k in keys):
            return Owner(entry.cost_centre, kind, f"cost-centre map entry {kind} '{entry.value}' for {what}")
    return None

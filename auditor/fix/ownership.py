"""Whether a repair may add gateway metering to an API: not where its spend reaches a team by the resource itself
(RULES.md, "Attribution paths": an account or deployment one team owns, or one APIM instance or workspace per
team, whose metric's default Service ID/Name already is the team). Adding a consumer metric there changes nothing
in the chargeback and edits a team's own gateway.

The attribution model (auditor/attribution/) decides where it is present; until then, the estate's own marks are
read: a workspace tagged with an owning team, or every account behind the API tagged with one same team. A
service's own `owner` tag names who runs the gateway, not whose spend it carries, so it decides nothing here.
"""

from __future__ import annotations

from ..context import AuditContext
from ..estate import Tags
from ..resolve.backends import api_accounts
from ..resolve.views import ApiView

# Tag names that say which team owns a resource (compared case-insensitively, `-`/`_` ignored).
OWNER_TAGS = frozenset({"team", "ownerteam", "costcenter", "costcentre", "businessunit", "chargeback"})


def _owner_tag(tags: Tags) -> str | None:
    for name, value in tags:
        if name.lower().replace("-", "").replace("_", "") in OWNER_TAGS and str(value).strip():
            return f"{name}={value}"
    return None


def owner_of(ctx: AuditContext, view: ApiView) -> str | None:
    """Why the API's spend is attributed by resource (one team owns it), or None when it is metered (or meant to
    be) at a shared gateway."""
    try:
        from ..attribution import isolated_reason  # type: ignore[attr-defined]
    except ImportError:
        isolated_reason = None
    if isolated_reason is not None:
        return isolated_reason(ctx, view)
    if view.api.workspace:
        ws = next((w for w in view.service.workspaces if w.name == view.api.workspace), None)
        tag = _owner_tag(ws.tags) if ws is not None else None
        if tag:
            return f"workspace '{ws.name}' belongs to one team ({tag}): its spend is attributed by resource"  # type: ignore[union-attr]
    ids = api_accounts(view, ctx.estate.accounts)
    accounts = [a for a in ctx.estate.accounts if a.resource_id.lower() in ids]
    if len(accounts) != len(ids):
        return None  # an account outside the estate: its owner is unknown, so nothing says one team owns it
    tags = [_owner_tag(a.tags) for a in accounts]
    if accounts and all(tags) and len(set(tags)) == 1:
        return f"every account behind it is owned by one team ({tags[0]}): its spend is attributed by resource"
    return None

"""Whether a repair may add gateway metering to an API: never where the attribution model (auditor/attribution/)
says one team owns the spend through it (RULES.md, "Attribution paths": isolated by resource). Adding a consumer
metric there changes nothing in the chargeback and edits a team's own gateway. A gateway that is one team in front
of a shared account is still metered (the meter tells the teams apart), so it is repaired like a shared one.
"""

from __future__ import annotations

from ..attribution.model import OWNED
from ..context import AuditContext
from ..resolve.views import ApiView


def owner_of(ctx: AuditContext, view: ApiView) -> str | None:
    """Why the API's spend is attributed by resource (one team owns it), or None when it is metered (or meant to
    be) at a gateway."""
    if ctx.attribution.role(view.resource) != OWNED:
        return None
    unit = next((g for g in ctx.attribution.gateways if view.resource in g.apis), None)
    how = f" ({unit.owner.how})" if unit is not None and unit.owner is not None else ""
    return f"the attribution model says one team owns the spend through it{how}: it is attributed by resource"

"""Shared by the OW rules: deployments of one account that fail alike are reported once, on the account."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from aoai_audit.attribution import DeploymentPath
from aoai_audit.context import AuditContext
from aoai_audit.findings import Location

from ._support import at


def grouped(ctx: AuditContext, failing: Callable[[DeploymentPath], bool]
            ) -> Iterator[tuple[str, str, tuple[DeploymentPath, ...], Location]]:
    """(resource, label, deployments, location) per account whose deployments all fail, else per deployment."""
    by_account: dict[str, list[DeploymentPath]] = defaultdict(list)
    for d in ctx.attribution.deployments:
        by_account[d.account_id or d.account].append(d)
    origins = {(a.resource_id or a.name): a.origin for a in ctx.estate.accounts}
    for account, deps in by_account.items():
        bad = [d for d in deps if failing(d)]
        if not bad:
            continue
        where = at(origins[account], account) if account in origins else Location(resource_id=account)
        if len(bad) == len(deps) and len({d.reason for d in bad}) == 1:
            label = f"account '{bad[0].account}'" + (
                f" (deployment(s) {', '.join(d.deployment for d in bad)})" if bad[0].deployment else "")
            yield bad[0].account_id or account, label, tuple(bad), where
            continue
        for d in bad:
            yield d.resource, d.label, (d,), where

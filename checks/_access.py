"""Shared reading of the estate for the RB rules: what the reporting principal must read, and where."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from aoai_audit.context import AuditContext
from aoai_audit.findings import Finding, Location
from aoai_audit.gaps import unknown_for
from aoai_audit.roles import Access, covers, subscription_of
from aoai_audit.rules import Rule


def access(ctx: AuditContext) -> Access:
    return Access.of(ctx.estate, ctx.estate.reader_principal or "")


def metric_homes(ctx: AuditContext) -> list[str]:
    """Where token metrics are stored: Application Insights behind the loggers, else the APIM services."""
    homes = [
        logger.resource_id
        for svc in ctx.estate.services
        for logger in svc.loggers
        if logger.logger_type.lower() == "applicationinsights" and logger.resource_id.startswith("/subscriptions/")
    ]
    if not homes:  # no Application Insights logger known: the platform metrics of the services themselves
        homes = [svc.resource_id for svc in ctx.estate.services if svc.resource_id.startswith("/subscriptions/")]
    return list(dict.fromkeys(homes))


def workspaces(ctx: AuditContext) -> list[str]:
    return list(dict.fromkeys(s.workspace_id for s in ctx.estate.diagnostic_settings if s.workspace_id))


def audited_resources(ctx: AuditContext) -> list[str]:
    """The LLM accounts and APIM services whose data the chargeback is built from."""
    ids = [a.resource_id for a in ctx.estate.accounts] + [s.resource_id for s in ctx.estate.services]
    return list(dict.fromkeys(i for i in ids if i.startswith("/subscriptions/")))


def subscriptions(ctx: AuditContext) -> list[str]:
    return list(dict.fromkeys(s for s in map(subscription_of, audited_resources(ctx)) if s))


def access_unknown(ctx: AuditContext, acc: Access, resource_id: str) -> bool:
    """The principal's access to `resource_id` cannot be judged: its role assignments there could not be listed
    (a 403 on the subscription's roleAssignments), or an assignment that covers it names a role whose definition
    could not be read. The RB rules then say nothing (unknown is not none); AU001 reports the failed read."""
    listed = [
        g for g in unknown_for(ctx.estate.gaps, resource_id, "roleAssignments")
        if "/roledefinitions/" not in g.target.lower()
    ]
    unread_roles = {g.target.rstrip("/").lower() for g in ctx.estate.gaps if "/roledefinitions/" in g.target.lower()}
    return bool(listed) or any(
        acc.role(a) is None and covers(a.scope, resource_id) and a.role_definition_id.rstrip("/").lower() in unread_roles
        for a in acc.assignments
    )


def lacking(ctx: AuditContext, targets: Iterable[str], allowed: Callable[[Access, str], bool]) -> Iterator[tuple[Access, str]]:
    """The targets the reader principal may not read as `allowed` asks, each with its access: the loop of RB001,
    RB002, RB003 and RB005. A target whose access cannot be judged is skipped (unknown is not none: AU001 names
    the failed read)."""
    acc = access(ctx)
    for target in targets:
        if not allowed(acc, target) and not access_unknown(ctx, acc, target):
            yield acc, target


def lacking_finding(rule: Rule, acc: Access, target: str, message: str) -> Finding:
    """An RB finding on the resource the principal cannot read, with what it holds as evidence."""
    return rule.finding(target, message, location=Location(resource_id=target), evidence=[acc.describe()])

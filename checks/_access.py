"""Shared reading of the estate for the RB rules: what the reporting principal must read, and where."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.roles import Access, subscription_of


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

"""What a check receives: the estate, resolved (effective policies, LLM verdicts) once for all checks, and the
usage phase's summary (auditor/usage/phase.py), which the engine runs once after the context is built."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from .attribution import OWNED, AttributionModel, build_model
from .config import Settings
from .estate import Estate
from .findings import Location
from .policy.tree import Origin, Policy
from .resolve.backends import api_accounts
from .resolve.classify import classify
from .resolve.effective import Facts, effective_policies, products_by_api
from .resolve.views import ApiView, api_resource, product_resource
from .usage.kql import dimension_markers
from .usage.phase import UsageScope
from .usage.tally import UsageSummary

__all__ = ["ApiView", "AuditContext", "api_resource", "build_context", "usage_scope"]


@dataclass(frozen=True)
class AuditContext:
    estate: Estate
    apis: tuple[ApiView, ...]
    settings: Settings
    attribution: AttributionModel  # computed once, before any check (auditor/attribution)
    usage: UsageSummary | None = None  # set by the engine's usage phase; None: no usage was given

    @cached_property
    def llm_apis(self) -> tuple[ApiView, ...]:
        return tuple(v for v in self.apis if v.verdict.is_llm)

    @cached_property
    def judged_llm_apis(self) -> tuple[ApiView, ...]:
        """LLM APIs whose policies are all known: the ones the policy rules judge (unknown is not none)."""
        return tuple(v for v in self.llm_apis if v.policy_known)

    @cached_property
    def gateway_apis(self) -> tuple[ApiView, ...]:
        """LLM APIs whose spend is meant to be attributed at a gateway: what TM*, HD001 and ST* judge. An API of a
        gateway that is one team, in front of accounts that team owns, is attributed by resource instead."""
        return tuple(v for v in self.llm_apis if self.attribution.role(v.resource) != OWNED)

    @cached_property
    def judged_gateway_apis(self) -> tuple[ApiView, ...]:
        """Gateway-attributed LLM APIs whose policies are all known: what the policy rules (TM*, HD001, ST*)
        judge. Unknown is not none, and spend attributed by resource is not the gateway's to meter."""
        return tuple(v for v in self.gateway_apis if v.policy_known)

    def location(self, origin: Origin | None, line: int | None = None) -> Location:
        if origin is None:
            return Location()
        return Location(origin.path, line if line is not None else origin.line, origin.resource_id)

    def policies(self) -> Iterator[tuple[str, Policy]]:
        """Every policy in the estate with the resource it belongs to."""
        for svc in self.estate.services:
            base = f"service/{svc.name}"
            if svc.global_policy:
                yield base, svc.global_policy
            for ws in svc.workspaces:
                if ws.policy:
                    yield f"{base}/workspaces/{ws.name}", ws.policy
            for product in svc.products:
                if product.policy:
                    yield product_resource(svc, product.name, product.workspace), product.policy
            for frag in svc.fragments:
                yield f"{base}/policyFragments/{frag.name}", frag.policy
            for api in svc.apis:
                resource = api_resource(svc, api)
                if api.policy:
                    yield resource, api.policy
                for op in api.operations:
                    if op.policy:
                        yield f"{resource}/operations/{op.name}", op.policy


def build_context(estate: Estate, settings: Settings) -> AuditContext:
    views = []
    for service in estate.services:
        index = products_by_api(service)
        for api in service.apis:
            facts: Facts = {}  # shared by the API's two resolvers: its nodes are counted once
            effective, issues = effective_policies(service, api, index, facts)
            verdict = classify(service, api, settings.llm_include, settings.llm_exclude, estate.accounts, facts)
            views.append(ApiView(service, api, verdict, effective, issues))
    llm = tuple(v for v in views if v.verdict.is_llm)
    model = build_model(estate, llm, settings.owner_tags, settings.cost_centres)
    return AuditContext(estate, tuple(views), settings, model)


def usage_scope(ctx: AuditContext) -> UsageScope:
    """What the usage phase needs from the resolved estate: the LLM APIs, the accounts behind each, and the
    values each attribution dimension falls back to."""
    llm = ctx.llm_apis
    return UsageScope(llm, tuple(api_accounts(v, ctx.estate.accounts) for v in llm), dimension_markers(llm))

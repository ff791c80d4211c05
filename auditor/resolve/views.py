"""An API as the checks see it: its service, its LLM verdict and its effective policies, resolved once."""

from __future__ import annotations

from dataclasses import dataclass

from ..estate import Api, ApimService
from ..policy.tree import Origin
from .classify import LlmVerdict
from .effective import EffectivePolicy, ResolutionIssue


def api_resource(service: ApimService, api: Api) -> str:
    ws = f"/workspaces/{api.workspace}" if api.workspace else ""
    return f"service/{service.name}{ws}/apis/{api.name}"


def product_resource(service: ApimService, name: str, workspace: str | None) -> str:
    """A workspace's product is named in its workspace, as its API is: two workspaces' products 'gold' are two."""
    ws = f"/workspaces/{workspace}" if workspace else ""
    return f"service/{service.name}{ws}/products/{name}"


def context_of(view: ApiView, product: str | None) -> str:
    """A finding's context (part of its fingerprint): empty when the API has one way in, else the product it is
    reached by. The checks write it; the fix reads it back to find which context a finding names."""
    if len({ep.product for ep in view.effective}) <= 1:
        return ""
    return f"via product '{product}'" if product else "without a product"


@dataclass(frozen=True)
class ApiView:
    service: ApimService
    api: Api
    verdict: LlmVerdict
    effective: tuple[EffectivePolicy, ...]
    issues: tuple[ResolutionIssue, ...]

    @property
    def resource(self) -> str:
        return api_resource(self.service, self.api)

    @property
    def policy_known(self) -> bool:
        """Every policy on the API's way in was read: none is a deploy-time value, a link or unparseable. A rule
        that judges policy statements says nothing about an API where one is unknown (AU002 reports it)."""
        return all(step.policy is None or step.policy.document is not None for ep in self.effective for step in ep.chain)

    def operation_resource(self, operation: str | None) -> str:
        return f"{self.resource}/operations/{operation}" if operation else self.resource

    @property
    def policy_origin(self) -> Origin:
        """Where a fix for the whole API goes: its own policy, else where it is declared."""
        if self.api.policy is not None:
            return self.api.policy.origin
        return self.api.origin

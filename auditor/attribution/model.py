"""The attribution model's data: how each LLM account and deployment's spend reaches a team (RULES.md, "Attribution
paths"). Frozen, computed once before the rules (paths.py); checks and reports read it, never recompute it."""

from __future__ import annotations

from dataclasses import dataclass

# The four paths, as RULES.md names them. A deployment follows one; an account or an estate may mix them.
METERED = "metered at a gateway"
BY_RESOURCE = "isolated by resource"
SHARED = "shared and unmetered"
NO_OWNER = "no known owner"
PATHS = (METERED, BY_RESOURCE, SHARED, NO_OWNER)

# How a gateway unit (an APIM service, or a workspace of one) relates to the spend that passes it.
GATEWAY_ROLE = "attributed at the gateway"  # shared gateway: TM*, HD001, ST* judge it
TEAM_GATEWAY = "the gateway is one team"  # per-team APIM/workspace over a shared account: the meter tells them apart
OWNED = "owned by one team"  # every account it reaches is one team's: gateway metering rules do not apply


@dataclass(frozen=True, slots=True)
class Owner:
    """The one team a resource belongs to, and how that is known."""

    team: str
    via: str  # what carries the ownership: "tag", "account", "deployment", "service", "workspace"
    how: str  # one phrase for reports: "tag 'team=alpha' on account 'acct-a'"


@dataclass(frozen=True, slots=True)
class Gateway:
    """An APIM service, or one workspace of it, with the LLM APIs through which spend reaches an account."""

    service: str
    workspace: str | None
    owner: Owner | None  # the service or workspace is one team (tag or cost-centre map), else shared
    apis: tuple[str, ...]  # LLM API resources of this unit
    metered: tuple[str, ...]  # of those, the ones with an effective token metric in every context
    consumer: tuple[str, ...]  # of those, the ones whose metric carries a consumer dimension in every context

    @property
    def label(self) -> str:
        return f"APIM service '{self.service}'" + (f" workspace '{self.workspace}'" if self.workspace else "")

    @property
    def fully_metered(self) -> bool:
        return bool(self.apis) and len(self.metered) == len(self.apis)

    @property
    def consumer_metered(self) -> bool:
        return bool(self.apis) and len(self.consumer) == len(self.apis)


@dataclass(frozen=True, slots=True)
class DeploymentPath:
    """One deployment (or a whole account whose deployments were not read, deployment ""): its path and why."""

    account: str  # account name
    account_id: str  # resource id as read
    deployment: str
    path: str  # one of PATHS
    reason: str  # one sentence: why this path
    owner: Owner | None = None
    gateways: tuple[Gateway, ...] = ()  # the gateway units whose LLM APIs reach the account
    projects: tuple[str, ...] = ()  # Foundry projects of the account
    sku: str = ""
    capacity: int | None = None
    via: str = ""  # what attributes it: "gateway", "tag", "account", "deployment", "service", "workspace", ""

    @property
    def resource(self) -> str:
        return f"{self.account_id}/deployments/{self.deployment}" if self.deployment else self.account_id

    @property
    def label(self) -> str:
        return f"deployment '{self.deployment}' of account '{self.account}'" if self.deployment \
            else f"account '{self.account}'"


@dataclass(frozen=True, slots=True)
class Architecture:
    """The estate's attribution architecture by the name practitioners use, and what it means for chargeback."""

    name: str
    implication: str  # one or two sentences
    parts: tuple[str, ...] = ()  # the architectures a mixed estate combines

    def sentence(self) -> str:
        return f"{self.name}: {self.implication}"


@dataclass(frozen=True)
class AttributionModel:
    deployments: tuple[DeploymentPath, ...]
    gateways: tuple[Gateway, ...]
    architecture: Architecture
    api_roles: tuple[tuple[str, str], ...] = ()  # (LLM API resource, GATEWAY_ROLE / TEAM_GATEWAY / OWNED)
    owner_tags: tuple[str, ...] = ()
    # (LLM API resource, the accounts its backend reaches: resource ids of estate accounts, else names), lower-case
    api_reach: tuple[tuple[str, frozenset[str]], ...] = ()

    def unmetered_apis_to(self, account: str) -> tuple[str, ...]:
        """The LLM APIs that reach `account` (a name or resource id) without a token metric in every context: tokens
        the account served beyond what the gateway metered may have passed the gateway through them unmetered.
        Empty: every gateway path to the account is metered, so such tokens never reached a gateway."""
        if not account:
            return ()
        keys = {account.lower()} | {d.account_id.lower() for d in self.of_account(account) if d.account_id}
        keys.add(account.lower().rsplit("/", 1)[-1])
        metered = {a for g in self.gateways for a in g.metered}
        return tuple(api for api, reach in self.api_reach if api not in metered and reach & keys)

    def role(self, api_resource: str) -> str:
        """How spend through an LLM API is attributed; an API the model does not know is judged at the gateway."""
        return dict(self.api_roles).get(api_resource, GATEWAY_ROLE)

    def by_path(self, path: str) -> tuple[DeploymentPath, ...]:
        return tuple(d for d in self.deployments if d.path == path)

    def of_account(self, account: str) -> tuple[DeploymentPath, ...]:
        low = account.lower()
        return tuple(d for d in self.deployments if d.account.lower() == low or d.account_id.lower() == low)

    def gateway_of_api(self, api: str) -> Gateway | None:
        """The gateway unit an LLM API (by name, as usage rows name it) belongs to, when only one holds it."""
        found = [g for g in self.gateways if any(a.rsplit("/", 1)[-1] == api for a in g.apis)] if api else []
        return found[0] if len(found) == 1 else None

    def of_deployment(self, account: str, deployment: str) -> DeploymentPath | None:
        """The path of a deployment (matched case-insensitively), else of its account when it has one path."""
        mine = self.of_account(account) if account else tuple(
            d for d in self.deployments if d.deployment.lower() == deployment.lower())
        exact = [d for d in mine if d.deployment.lower() == deployment.lower()]
        if len(exact) == 1:
            return exact[0]
        paths = {(d.path, d.owner) for d in mine}
        return mine[0] if len(paths) == 1 and mine else None

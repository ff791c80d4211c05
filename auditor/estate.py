"""The estate: everything a source read, as frozen dataclasses with no I/O.

Every source (APIOps folder, ARM template, Terraform JSON, live Azure, snapshot) produces one of these;
nothing downstream knows which. Secret values never enter it: named values keep name and secret flag,
policy text is redacted at read time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .gaps import CollectionGap
from .policy.secrets import REDACTED, credential_kind, redact
from .policy.tree import Origin, Policy
from .usage.model import UsageData

__all__ = ["CollectionGap"]  # re-exported: sources build gaps from here

# Azure resource tags as sorted (name, value) pairs: hashable, so entities stay frozen. Tag names are
# case-insensitive in Azure; sources keep them as written and readers compare them case-insensitively.
Tags = tuple[tuple[str, str], ...]


def tags_from(raw: object) -> Tags:
    """Tags from an ARM/Terraform/Resource Graph `tags` object; anything that is not a mapping is no tags."""
    if not isinstance(raw, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in raw.items() if isinstance(k, str) and isinstance(v, (str, int, float))))

# What a source can carry. A rule that needs a kind its sources did not carry is "not evaluated".
CARRIES_POLICIES = "policies"
CARRIES_APIS = "apis"  # API metadata: service URL, subscription requirement, products
CARRIES_LOGGING = "apim-logging"  # APIM loggers and diagnostics
CARRIES_DIAGNOSTIC_SETTINGS = "diagnostic-settings"
CARRIES_ACCOUNTS = "ai-accounts"
CARRIES_ROLES = "role-assignments"
CARRIES_USAGE = "usage"  # tokens metered at the gateway, per attribution value
CARRIES_PLATFORM_USAGE = "platform-usage"  # tokens the Azure OpenAI accounts report, per deployment
CARRIES_COST_CENTRES = "cost-centre-map"  # given with --cost-centres
CARRIES_READER = "reader-principal"  # who produces chargeback data: given, or the identity of a live run
# The input describes an estate (APIs, services, accounts, settings), not loose policy statements: derived in
# Estate.carries from the sources, never declared. Loose policy and fragment files carry policies only, so an
# audit of them is statement-level: each statement is judged on its own, and estate-wide verdicts such as
# "no LLM API found" (AU003) are left to a scan of the whole estate.
CARRIES_ESTATE = "estate"
ALL_KINDS = frozenset(
    {
        CARRIES_POLICIES,
        CARRIES_APIS,
        CARRIES_LOGGING,
        CARRIES_DIAGNOSTIC_SETTINGS,
        CARRIES_ACCOUNTS,
        CARRIES_ROLES,
        CARRIES_USAGE,
        CARRIES_READER,
    }
)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    kind: str  # "apiops", "arm", "terraform", "policy-files", "live", "snapshot"
    location: str  # path or URI as the user gave it
    carries: frozenset[str]
    identity: str | None = None  # who read it (live)
    detail: str | None = None  # how it was read, e.g. where an APIOps folder's service name came from


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    method: str = ""
    url_template: str = ""
    display_name: str = ""
    policy: Policy | None = None


@dataclass(frozen=True, slots=True)
class Api:
    name: str  # APIM id, e.g. "chat" or "chat;rev=2"
    display_name: str = ""
    path: str = ""
    service_url: str = ""
    api_type: str = ""  # http, soap, graphql, websocket, ...
    subscription_required: bool | None = None  # None: the source does not say
    is_current: bool = True
    revision: str = ""
    workspace: str | None = None
    policy: Policy | None = None
    operations: tuple[Operation, ...] = ()
    spec_paths: tuple[str, ...] = ()  # paths from the API definition, for classification
    origin: Origin = field(default_factory=Origin)

    def __post_init__(self) -> None:
        if self.service_url:  # `?code=` / `?api-key=` in a service URL never enters the estate
            object.__setattr__(self, "service_url", redact(self.service_url))


@dataclass(frozen=True, slots=True)
class Product:
    name: str
    display_name: str = ""
    subscription_required: bool | None = None
    apis: tuple[str, ...] = ()
    workspace: str | None = None
    policy: Policy | None = None
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True, slots=True)
class Workspace:
    """An APIM workspace: a team's slice of a service, with its own APIs, products, backends and policy."""

    name: str
    policy: Policy | None = None
    tags: Tags = ()


@dataclass(frozen=True, slots=True)
class Fragment:
    name: str
    policy: Policy
    workspace: str | None = None


@dataclass(frozen=True, slots=True)
class NamedValue:
    """Name and flags only; a secret's value is never kept. Non-secret values help read dimensions."""

    name: str
    display_name: str = ""
    secret: bool = False
    key_vault: bool = False
    value: str | None = None  # None whenever secret; redacted when it looks like a credential
    exposed: str | None = None  # why a non-secret value looks like a credential (SEC001)
    origin: Origin = field(default_factory=Origin)
    workspace: str | None = None  # a workspace's own named value: visible to that workspace's policies only

    @classmethod
    def read(
        cls,
        name: str,
        display_name: str = "",
        secret: bool = False,
        key_vault: bool = False,
        value: str | None = None,
        origin: Origin | None = None,
        workspace: str | None = None,
    ) -> NamedValue:
        """Build from source data: drop secret values, redact credential-like plain ones and say why."""
        exposed = None
        if secret or key_vault:
            value = None
        elif value:
            exposed = credential_kind(display_name or name, value)
            if exposed:
                value = REDACTED
        return cls(name, display_name or name, secret, key_vault, value or None, exposed, origin or Origin(), workspace)


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    url: str = ""
    backend_type: str = "single"  # single or pool
    pool_members: tuple[str, ...] = ()  # backend ids of a pool
    resource_id: str = ""  # e.g. the Azure OpenAI account behind it
    workspace: str | None = None

    def __post_init__(self) -> None:
        if self.url:  # `?code=` / `?api-key=` in a backend URL never enters the estate
            object.__setattr__(self, "url", redact(self.url))


@dataclass(frozen=True, slots=True)
class Logger:
    name: str
    logger_type: str  # applicationInsights, azureMonitor, azureEventHub
    resource_id: str = ""
    workspace: str | None = None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """An APIM diagnostic entity (service-level when api is None)."""

    name: str  # "applicationinsights", "azuremonitor"
    logger_id: str = ""
    api: str | None = None
    metrics: bool | None = None
    sampling_percentage: float | None = None
    llm_logging: str | None = None  # largeLanguageModel.logs: "enabled"/"disabled", None if unknown
    origin: Origin = field(default_factory=Origin)
    workspace: str | None = None


@dataclass(frozen=True, slots=True)
class ApimService:
    name: str
    resource_id: str = ""
    location: str = ""
    global_policy: Policy | None = None
    workspaces: tuple[Workspace, ...] = ()
    products: tuple[Product, ...] = ()
    apis: tuple[Api, ...] = ()
    fragments: tuple[Fragment, ...] = ()
    named_values: tuple[NamedValue, ...] = ()
    backends: tuple[Backend, ...] = ()
    loggers: tuple[Logger, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    origin: Origin = field(default_factory=Origin)
    tags: Tags = ()

    def scoped(self, workspace: str | None) -> ApimService:
        """The service as an API in `workspace` (None: a service-level API) sees it: a workspace's backends and
        named values are its own and shadow the service's of the same name; another workspace's are invisible
        ("Each workspace contains APIs, products, subscriptions, named values, and related resources",
        https://learn.microsoft.com/en-us/azure/api-management/workspaces-overview). A service with no
        workspace-scoped entities is returned as it is."""
        if not any(b.workspace for b in self.backends) and not any(n.workspace for n in self.named_values):
            return self

        def visible(items: tuple, key) -> tuple:
            own = [i for i in items if workspace is not None and i.workspace == workspace]
            names = {key(i) for i in own}
            return tuple(own + [i for i in items if i.workspace is None and key(i) not in names])

        return replace(self, backends=visible(self.backends, lambda b: b.name.lower()),
                       named_values=visible(self.named_values, lambda n: n.name.lower()))


@dataclass(frozen=True, slots=True)
class Deployment:
    name: str
    model: str = ""
    model_version: str = ""
    sku: str = ""  # GlobalStandard, DataZoneStandard, Standard, ProvisionedManaged, GlobalBatch ...
    capacity: int | None = None  # sku.capacity: PTUs for a provisioned deployment; None when not read
    tags: Tags = ()


@dataclass(frozen=True, slots=True)
class Project:
    """A Foundry project (`Microsoft.CognitiveServices/accounts/projects`): it groups work inside an AIServices
    account but is billed as the account, so projects on one shared deployment are not told apart by the bill."""

    name: str
    resource_id: str = ""
    tags: Tags = ()
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True, slots=True)
class AiAccount:
    """An Azure OpenAI / AI Services (Foundry) account."""

    resource_id: str
    name: str
    kind: str = ""  # OpenAI, AIServices
    location: str = ""
    endpoint: str = ""
    disable_local_auth: bool | None = None
    public_network_access: str | None = None  # Enabled / Disabled
    network_default_action: str | None = None  # Allow / Deny
    deployments: tuple[Deployment, ...] = ()
    origin: Origin = field(default_factory=Origin)
    tags: Tags = ()
    projects: tuple[Project, ...] = ()


@dataclass(frozen=True, slots=True)
class LogSetting:
    category: str | None
    category_group: str | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class DiagnosticSetting:
    """Azure Monitor diagnostic setting on a resource (Microsoft.Insights/diagnosticSettings)."""

    resource_id: str  # the resource it is attached to
    name: str
    workspace_id: str | None = None
    logs: tuple[LogSetting, ...] = ()
    metrics: tuple[LogSetting, ...] = ()
    destination_type: str | None = None  # "Dedicated" or None (AzureDiagnostics)
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True, slots=True)
class RoleDefinition:
    id: str  # GUID
    name: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    scope: str
    role_definition_id: str  # GUID or full id
    principal_id: str
    principal_type: str = ""
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True, slots=True)
class Estate:
    sources: tuple[SourceInfo, ...] = ()
    services: tuple[ApimService, ...] = ()
    accounts: tuple[AiAccount, ...] = ()
    diagnostic_settings: tuple[DiagnosticSetting, ...] = ()
    role_assignments: tuple[RoleAssignment, ...] = ()
    role_definitions: tuple[RoleDefinition, ...] = ()
    reader_principal: str | None = None
    gaps: tuple[CollectionGap, ...] = ()
    root: str = ""  # directory that finding paths are relative to
    usage: UsageData | None = None  # what was metered (live query or exported file)

    @property
    def statement_level(self) -> bool:
        """Only loose policy or fragment files were read: an audit of statements, not of an estate."""
        return CARRIES_ESTATE not in self.carries

    @property
    def carries(self) -> frozenset[str]:
        kinds: set[str] = set()
        for source in self.sources:
            kinds |= source.carries
        if kinds - {CARRIES_POLICIES}:
            kinds.add(CARRIES_ESTATE)
        if self.reader_principal:
            kinds.add(CARRIES_READER)
        if self.usage is not None and self.usage.gateway:
            kinds.add(CARRIES_USAGE)
        if self.usage is not None and self.usage.platform:
            kinds.add(CARRIES_PLATFORM_USAGE)
        return frozenset(kinds)

    def merge(self, other: Estate) -> Estate:
        """Combine two estates (several paths or shards of one tenant in one report)."""
        return Estate(
            sources=self.sources + other.sources,
            services=self.services + other.services,
            accounts=self.accounts + other.accounts,
            diagnostic_settings=self.diagnostic_settings + other.diagnostic_settings,
            role_assignments=self.role_assignments + other.role_assignments,
            role_definitions=self.role_definitions + other.role_definitions,
            reader_principal=self.reader_principal or other.reader_principal,
            gaps=self.gaps + other.gaps,
            root=self.root or other.root,
            usage=self.usage.merge(other.usage) if self.usage and other.usage else self.usage or other.usage,
        )

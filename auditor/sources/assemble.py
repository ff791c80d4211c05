"""One assembler for the sources that collect an estate piece by piece (ARM templates, Terraform plans).

Such a file declares a service's APIs, operations, policies and products as separate resources in any order,
so each source gathers them into `EstateParts` first and the estate is built here, once: operation policies
joined to their operations, product links to their products, accounts to their deployments, and what the file
carries judged the same way for every format. A source says only how its own declarations read (`Dialect`):
property names differ between formats, nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..estate import (
    AiAccount,
    Api,
    ApimService,
    Backend,
    CollectionGap,
    Deployment,
    Diagnostic,
    DiagnosticSetting,
    Estate,
    Fragment,
    Logger,
    NamedValue,
    Operation,
    Product,
    Project,
    RoleAssignment,
    RoleDefinition,
    SourceInfo,
    Tags,
    Workspace,
)
from ..policy.tree import Origin, Policy
from .files import declared_kinds, settings_about_audited

Key = tuple[str | None, str]  # (workspace or None for the service itself, name)


@dataclass
class ServiceParts:
    """What a file declares about one APIM service, gathered before the service is built."""

    name: str
    resource_id: str
    location: str = ""
    origin: Origin = field(default_factory=Origin)
    global_policy: Policy | None = None
    # the source's draft of each API and product (its declaration's properties, its policy), read by its Dialect
    apis: dict[Key, dict[str, Any]] = field(default_factory=dict)
    operations: dict[Key, list[Operation]] = field(default_factory=lambda: defaultdict(list))
    op_policies: dict[Key, dict[str, Policy | None]] = field(default_factory=lambda: defaultdict(dict))
    products: dict[Key, dict[str, Any]] = field(default_factory=dict)
    product_apis: dict[Key, list[str]] = field(default_factory=lambda: defaultdict(list))
    workspaces: dict[str, Policy | None] = field(default_factory=dict)
    fragments: list[Fragment] = field(default_factory=list)
    named_values: list[NamedValue] = field(default_factory=list)
    backends: list[Backend] = field(default_factory=list)
    loggers: list[Logger] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    tags: Tags = ()  # the service's Azure tags (an owner's cost centre, team)


@dataclass
class EstateParts:
    """Everything one file declares, gathered; `accounts` holds AiAccount keyword arguments by lower-case id."""

    services: dict[str, ServiceParts] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[str, list[Deployment]] = field(default_factory=lambda: defaultdict(list))
    projects: dict[str, list[Project]] = field(default_factory=lambda: defaultdict(list))  # account id (lower) → Foundry projects
    settings: list[DiagnosticSetting] = field(default_factory=list)
    assignments: list[RoleAssignment] = field(default_factory=list)
    definitions: list[RoleDefinition] = field(default_factory=list)


@dataclass(frozen=True)
class Dialect:
    """How one format's declarations read. `api_fields`/`product_fields` give the Api/Product keyword arguments
    that come from a draft (all but name, workspace, policy, operations and product links); `operations_key`
    names where an API's operations were filed (Terraform files a revision's under the API it revises)."""

    api_fields: Callable[[ServiceParts, Key, dict[str, Any]], dict[str, Any]]
    product_fields: Callable[[ServiceParts, Key, dict[str, Any]], dict[str, Any]]
    operations_key: Callable[[Key], Key] = lambda key: key


def with_policies(ops: list[Operation], policies: dict[str, Policy | None]) -> tuple[Operation, ...]:
    """Declared operations with their policies, then operations known only by a policy declared for them."""
    known = {o.name for o in ops}
    every = [*ops, *(Operation(name) for name in policies if name not in known)]
    return tuple(Operation(o.name, o.method, o.url_template, o.display_name, policies.get(o.name)) for o in every)


def build_service(p: ServiceParts, dialect: Dialect) -> ApimService:
    apis = []
    for key, draft in p.apis.items():
        ops_key = dialect.operations_key(key)
        ops = with_policies(list(p.operations.get(ops_key, [])), p.op_policies.get(ops_key, {}))
        apis.append(Api(name=key[1], workspace=key[0], policy=draft.get("policy"), operations=ops,
                        **dialect.api_fields(p, key, draft)))
    products = [
        Product(key[1], apis=tuple(dict.fromkeys(p.product_apis.get(key, []))), workspace=key[0],
                policy=draft.get("policy"), **dialect.product_fields(p, key, draft))
        for key, draft in p.products.items()
    ]
    return ApimService(
        name=p.name,
        resource_id=p.resource_id,
        location=p.location,
        global_policy=p.global_policy,
        workspaces=tuple(Workspace(n, pol) for n, pol in p.workspaces.items()),
        products=tuple(products),
        apis=tuple(apis),
        fragments=tuple(p.fragments),
        named_values=tuple(p.named_values),
        backends=tuple(p.backends),
        loggers=tuple(p.loggers),
        diagnostics=tuple(p.diagnostics),
        origin=p.origin,
        tags=p.tags,
    )


def build_estate(kind: str, path: str, root: str, parts: EstateParts, gaps: list[CollectionGap], dialect: Dialect,
                 *, declares_apim: bool, declares_service: bool) -> Estate:
    """The estate of one file. `declares_service`: the file creates a service itself, so it is about that
    service's diagnostic settings even where it declares none."""
    services = parts.services.values()
    carries = declared_kinds(declares_apim, any(s.loggers or s.diagnostics for s in services), bool(parts.accounts),
                             settings_about_audited(parts.settings) or declares_service, bool(parts.assignments))
    return Estate(
        sources=(SourceInfo(kind, path, carries),),
        services=tuple(build_service(p, dialect) for p in services),
        accounts=tuple(
            AiAccount(**{**a, "deployments": tuple(parts.deployments.get(a["resource_id"].lower(), ())),
                         "projects": tuple(parts.projects.get(a["resource_id"].lower(), ()))})
            for a in parts.accounts.values()
        ),
        diagnostic_settings=tuple(parts.settings),
        role_assignments=tuple(parts.assignments),
        role_definitions=tuple(parts.definitions),
        gaps=tuple(gaps),
        root=root,
    )

"""APIM services read live: each service's policies (as raw XML), APIs and operations, products, fragments,
named values (never their secret values), backends, loggers, diagnostics and workspaces, side by side."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ...estate import (
    Api,
    ApimService,
    Backend,
    Diagnostic,
    Fragment,
    Logger,
    NamedValue,
    Operation,
    Product,
    Workspace,
    tags_from,
)
from ...policy.rawxml import read_policy
from ...policy.tree import Origin, Policy
from ..apiops import diagnostic_from_props
from .http import drain, short_id, status_of
from .session import LiveSession

APIM_READ = "API Management Service Reader (or Reader) on the service"

# DiagnosticContractProperties.largeLanguageModel exists at 2024-06-01-preview (Azure/bicep-types-az,
# generated/apimanagement/microsoft.apimanagement/2024-06-01-preview/types.md); SDK 5.0.0 uses 2024-05-01
DIAGNOSTICS_LLM_API = "2024-06-01-preview"



def list_services(s: LiveSession, apim, sub: str) -> list[Any]:
    opt = s.options
    if opt.resource_group:
        items = s.listed(f"/subscriptions/{sub}/resourceGroups/{opt.resource_group}", APIM_READ,
                            lambda: apim.api_management_service.list_by_resource_group(opt.resource_group))
    else:
        items = s.listed(f"/subscriptions/{sub}", "Reader on the subscription", apim.api_management_service.list)
    return [s for s in items if not opt.apim or s.name == opt.apim]


def _policy(s: LiveSession, target: str, scope: str, label: str, call: Callable[[], Any]) -> Policy | None:
    contract = s.read(target, APIM_READ, call, None, missing_ok=True)
    if contract is None or not getattr(contract, "value", None):
        return None
    return read_policy(contract.value, scope=scope, resource_id=target, label=label,
                       fmt=str(getattr(contract, "format", "") or "rawxml"))


def read_service(s: LiveSession, apim, svc: Any) -> ApimService:
    """One service. Its collections are independent reads: they run side by side, so the latency chain
    of a service is a few calls long, not one per collection and product."""
    rid = svc.id
    rg = rid.split("/resourceGroups/")[1].split("/")[0]
    name = svc.name
    base = rid

    def one_api(a: Any, ws: str | None = None) -> Api:
        scope = f"{base}/workspaces/{ws}" if ws else base
        api_id = f"{scope}/apis/{a.name}"
        if ws:
            get_policy = lambda: apim.workspace_api_policy.get(rg, name, ws, a.name, "policy", format="rawxml")  # noqa: E731
            list_ops = lambda: apim.workspace_api_operation.list_by_api(rg, name, ws, a.name)  # noqa: E731
            op_policy = lambda op: apim.workspace_api_operation_policy.get(  # noqa: E731
                rg, name, ws, a.name, op, "policy", format="rawxml")
        else:
            get_policy = lambda: apim.api_policy.get(rg, name, a.name, "policy", format="rawxml")  # noqa: E731
            list_ops = lambda: apim.api_operation.list_by_api(rg, name, a.name)  # noqa: E731
            op_policy = lambda op: apim.api_operation_policy.get(  # noqa: E731
                rg, name, a.name, op, "policy", format="rawxml")
        policy = _policy(s, f"{api_id}/policies/policy", "api", f"api '{a.name}'", get_policy)
        api_diagnostics.extend(read_diagnostics(s, apim, rg, name, api_id, a.name, ws))
        ops = []
        for op in s.listed(f"{api_id}/operations", APIM_READ, list_ops):
            policy_of_op = _policy(s, f"{api_id}/operations/{op.name}/policies/policy", "operation",
                                        f"operation '{op.name}'", lambda op=op: op_policy(op.name))
            ops.append(Operation(op.name, op.method or "", op.url_template or "", op.display_name or "", policy_of_op))
        return Api(
            name=a.name, display_name=a.display_name or a.name, path=a.path or "", service_url=a.service_url or "",
            api_type=str(a.api_type or ""), subscription_required=a.subscription_required,
            is_current=a.is_current is not False, revision=a.api_revision or "", workspace=ws, policy=policy,
            operations=tuple(ops), origin=Origin(None, None, api_id, f"api '{a.name}'"),
        )

    def one_workspace(w: Any) -> tuple[Workspace, list[Api], list[Fragment]]:
        """A workspace's own policy, APIs, fragments, products, backends, named values, loggers and diagnostics:
        the same reads, one level down (Microsoft.ApiManagement/service/workspaces/..., api-version 2024-05-01
        as the SDK sends it)."""
        wid = f"{base}/workspaces/{w.name}"
        ws_parts.append(workspace_entities(s, apim, rg, name, wid, w.name))
        policy = _policy(s, f"{wid}/policies/policy", "workspace", f"workspace '{w.name}'",
                              lambda: apim.workspace_policy.get(rg, name, w.name, "policy", format="rawxml"))
        raw_apis = s.listed(f"{wid}/apis", APIM_READ, lambda: apim.workspace_api.list_by_service(rg, name, w.name))
        apis = [one_api(a, w.name) for a in raw_apis]
        fragments = []
        for f in s.listed(f"{wid}/policyFragments", APIM_READ,
                             lambda: apim.workspace_policy_fragment.list_by_service(rg, name, w.name)):
            fpol = _policy(s, f"{wid}/policyFragments/{f.name}", "fragment", f"fragment '{f.name}'",
                                lambda f=f: apim.workspace_policy_fragment.get(rg, name, w.name, f.name, format="rawxml"))
            if fpol is not None:
                fragments.append(Fragment(f.name, fpol, w.name))
        return Workspace(w.name, policy), apis, fragments

    def one_product(p: Any) -> Product:
        pid = f"{base}/products/{p.name}"
        linked = s.listed(f"{pid}/apis", APIM_READ, lambda: apim.product_api.list_by_product(rg, name, p.name))
        policy = _policy(s, f"{pid}/policies/policy", "product", f"product '{p.name}'",
                              lambda: apim.product_policy.get(rg, name, p.name, "policy", format="rawxml"))
        return Product(p.name, p.display_name or p.name, p.subscription_required, tuple(x.name for x in linked),
                       None, policy, Origin(None, None, pid, f"product '{p.name}'"))

    def one_fragment(f: Any) -> Fragment | None:
        policy = _policy(s, f"{base}/policyFragments/{f.name}", "fragment", f"fragment '{f.name}'",
                              lambda: apim.policy_fragment.get(rg, name, f.name, format="rawxml"))
        return Fragment(f.name, policy) if policy is not None else None

    api_diagnostics: list[Diagnostic] = []  # per-API diagnostics (the portal puts App Insights there)
    ws_parts: list[WorkspaceEntities] = []
    workers = s.options.max_workers
    with ThreadPoolExecutor(max_workers=workers) as lists, ThreadPoolExecutor(max_workers=workers) as items:
        global_policy = lists.submit(_policy, s, f"{base}/policies/policy", "global", "global policy",
                                     lambda: apim.policy.get(rg, name, "policy", format="rawxml"))
        raw = {key: lists.submit(s.listed, f"{base}/{key}", APIM_READ, pager) for key, pager in (
            ("apis", lambda: apim.api.list_by_service(rg, name)),
            ("products", lambda: apim.product.list_by_service(rg, name)),
            ("policyFragments", lambda: apim.policy_fragment.list_by_service(rg, name)),
            ("namedValues", lambda: apim.named_value.list_by_service(rg, name)),
            ("backends", lambda: apim.backend.list_by_service(rg, name)),
            ("loggers", lambda: apim.logger.list_by_service(rg, name)),
        )}
        raw_diagnostics = lists.submit(read_diagnostics, s, apim, rg, name, base)
        raw_workspaces = lists.submit(s.read, f"{base}/workspaces", APIM_READ,
                                      lambda: drain(apim.workspace.list_by_service(rg, name), s.arm), [], True)
        apis = items.map(one_api, raw["apis"].result())
        products = items.map(one_product, raw["products"].result())
        fragments = items.map(one_fragment, raw["policyFragments"].result())
        apis, products, fragments = tuple(apis), tuple(products), tuple(f for f in fragments if f is not None)
    named = [
        NamedValue.read(nv.name, nv.display_name or nv.name, bool(nv.secret), nv.key_vault is not None,
                        None if nv.secret else nv.value, Origin(None, None, f"{base}/namedValues/{nv.name}", "named value"))
        for nv in raw["namedValues"].result()
    ]
    backends = [backend_of(b, None) for b in raw["backends"].result()]
    loggers = [Logger(lg.name, str(lg.logger_type or ""), lg.resource_id or "") for lg in raw["loggers"].result()]
    workspaces, more_apis, more_fragments = [], [], []
    for workspace, ws_apis, ws_fragments in map(one_workspace, raw_workspaces.result()):
        workspaces.append(workspace)
        more_apis += ws_apis
        more_fragments += ws_fragments
    apis, fragments = apis + tuple(more_apis), fragments + tuple(more_fragments)
    for part in ws_parts:
        products += part.products
        named += part.named_values
        backends += part.backends
        loggers += part.loggers
    diagnostics = raw_diagnostics.result() + [d for part in ws_parts for d in part.diagnostics] + sorted(
        api_diagnostics, key=lambda d: (d.workspace or "", d.api or "", d.name))
    s.note(f"service {name}: {len(apis)} API(s)")
    if s.options.tracker is not None:
        s.options.tracker.advance(f"{name}: {len(apis)} API(s)")
    return ApimService(name, rid, svc.location or "", global_policy.result(), tuple(workspaces), products, apis,
                       fragments, tuple(named), tuple(backends), tuple(loggers), tuple(diagnostics),
                       Origin(None, None, rid, f"service '{name}'"), tags_from(getattr(svc, "tags", None)))


def read_diagnostics(s: LiveSession, apim, rg: str, name: str, base: str, api: str | None = None,
                 workspace: str | None = None) -> list[Diagnostic]:
    """Service (or, with `api`, per-API) diagnostics with their `largeLanguageModel` settings, which the
    installed SDK does not model: read raw at an api-version that has them, falling back to the SDK when a
    cloud does not serve it. The portal creates the applicationinsights diagnostic per API
    (https://learn.microsoft.com/azure/api-management/api-management-howto-app-insights), so both scopes are read."""
    def origin(n: str) -> Origin:
        return Origin(None, None, f"{base}/diagnostics/{n}", "diagnostic")

    try:
        items = s.raw_list(apim, f"{base}/diagnostics?api-version={DIAGNOSTICS_LLM_API}")
        return [diagnostic_from_props(str(d.get("name", "")), d.get("properties") if isinstance(
            d.get("properties"), dict) else {}, api, origin(str(d.get("name", ""))), workspace) for d in items]
    except Exception as exc:
        if status_of(exc) != 400:  # anything but "api-version not supported here" is a real gap
            s.gap(f"{base}/diagnostics", f"could not read {short_id(base + '/diagnostics')}", exc, APIM_READ)
            return []
    if api is not None and workspace is not None:
        sdk_list = lambda: apim.workspace_api_diagnostic.list_by_workspace(rg, name, workspace, api)  # noqa: E731
    elif workspace is not None:
        sdk_list = lambda: apim.workspace_diagnostic.list_by_workspace(rg, name, workspace)  # noqa: E731
    elif api is not None:
        sdk_list = lambda: apim.api_diagnostic.list_by_service(rg, name, api)  # noqa: E731
    else:
        sdk_list = lambda: apim.diagnostic.list_by_service(rg, name)  # noqa: E731
    out = []
    for d in s.listed(f"{base}/diagnostics", APIM_READ, sdk_list):
        props = {"loggerId": d.logger_id, "metrics": d.metrics,
                 "sampling": {"percentage": d.sampling.percentage} if d.sampling else None}
        out.append(diagnostic_from_props(d.name, props, api, origin(d.name), workspace))
    return out


@dataclass(frozen=True)
class WorkspaceEntities:
    products: tuple[Product, ...]
    named_values: tuple[NamedValue, ...]
    backends: tuple[Backend, ...]
    loggers: tuple[Logger, ...]
    diagnostics: tuple[Diagnostic, ...]


def workspace_entities(s: LiveSession, apim, rg: str, name: str, wid: str, ws: str) -> WorkspaceEntities:
    """A workspace's products (with their APIs and policy), backends, named values (never their secret
    values), loggers and diagnostics, each marked with the workspace."""
    products = []
    for p in s.listed(f"{wid}/products", APIM_READ, lambda: apim.workspace_product.list_by_service(rg, name, ws)):
        pid = f"{wid}/products/{p.name}"
        links = s.listed(f"{pid}/apiLinks", APIM_READ,
                         lambda p=p: apim.workspace_product_api_link.list_by_product(rg, name, ws, p.name))
        policy = _policy(s, f"{pid}/policies/policy", "product", f"product '{p.name}'", lambda p=p: (
            apim.workspace_product_policy.get(rg, name, ws, p.name, "policy", format="rawxml")))
        products.append(Product(p.name, p.display_name or p.name, p.subscription_required,
                                tuple(str(x.api_id or "").rstrip("/").rsplit("/", 1)[-1] for x in links), ws, policy,
                                Origin(None, None, pid, f"product '{p.name}'")))
    named = [NamedValue.read(nv.name, nv.display_name or nv.name, bool(nv.secret), nv.key_vault is not None,
                             None if nv.secret else nv.value,
                             Origin(None, None, f"{wid}/namedValues/{nv.name}", "named value"), ws)
             for nv in s.listed(f"{wid}/namedValues", APIM_READ,
                                lambda: apim.workspace_named_value.list_by_service(rg, name, ws))]
    backends = [backend_of(b, ws) for b in s.listed(
        f"{wid}/backends", APIM_READ, lambda: apim.workspace_backend.list_by_workspace(rg, name, ws))]
    loggers = [Logger(lg.name, str(lg.logger_type or ""), lg.resource_id or "", ws) for lg in s.listed(
        f"{wid}/loggers", APIM_READ, lambda: apim.workspace_logger.list_by_workspace(rg, name, ws))]
    return WorkspaceEntities(tuple(products), tuple(named), tuple(backends), tuple(loggers),
                             tuple(read_diagnostics(s, apim, rg, name, wid, None, ws)))


def backend_of(b: Any, workspace: str | None) -> Backend:
    pool_members = tuple(m.id for m in (getattr(getattr(b, "pool", None), "services", None) or []))
    btype = "pool" if pool_members or str(getattr(b, "type_properties_type", "")).lower() == "pool" else "single"
    return Backend(b.name, b.url or "", btype, pool_members, b.resource_id or "", workspace)

"""Terraform `terraform show -json` output (plan or state) as a source.

Reads the azurerm resources that make up an APIM estate, the Azure OpenAI accounts, diagnostic settings
and role assignments. In a plan, attributes computed at apply time (ids, most links) are unknown; links are
then taken from the configuration's references (`azurerm_cognitive_account.aoai.id`), so a plan can be
audited before it is applied. Origins name the Terraform address. Wrong types are gaps, never exceptions.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
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
    LogSetting,
    NamedValue,
    Operation,
    Product,
    Project,
    RoleAssignment,
    RoleDefinition,
    SourceInfo,
    Tags,
    Workspace,
    tags_from,
)
from ..policy.rawxml import read_policy
from ..policy.tree import Origin, Policy
from .files import MAX_JSON_BYTES, JsonStringLines, as_bool, as_str, declared_kinds, settings_about_audited

MAX_MODULE_DEPTH = 50
SENSITIVE = "{sensitive}"  # what a value marked in `sensitive_values` reads as: never its content


def _masked(values: Any, mask: Any) -> Any:
    """`values` with every part that the plan's `sensitive_values` marks `true` replaced by SENSITIVE
    (https://developer.hashicorp.com/terraform/internals/json-format: sensitive_values mirrors values)."""
    if mask is True:
        return SENSITIVE
    if not mask:  # nothing marked (`{}`, `[]`, false): the values themselves, not a copy of them
        return values
    if isinstance(mask, dict) and isinstance(values, dict):
        return {k: _masked(v, mask.get(k)) for k, v in values.items()}
    if isinstance(mask, list) and isinstance(values, list):
        return [_masked(v, mask[i] if i < len(mask) else None) for i, v in enumerate(values)]
    return values


@dataclass
class _Res:
    address: str
    type: str
    name: str
    values: dict[str, Any]
    refs: dict[str, list[str]]  # attribute -> addresses it references (from the configuration)


@dataclass
class _Svc:
    name: str
    resource_id: str
    location: str = ""
    origin: Origin = field(default_factory=Origin)
    global_policy: Policy | None = None
    apis: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: dict[str, list[tuple[str, dict[str, Any], str]]] = field(default_factory=lambda: defaultdict(list))
    op_policies: dict[tuple[str, str], Policy | None] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    product_apis: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    workspaces: list[str] = field(default_factory=list)
    fragments: list[Fragment] = field(default_factory=list)
    named_values: list[NamedValue] = field(default_factory=list)
    backends: list[Backend] = field(default_factory=list)
    loggers: list[Logger] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    tags: Tags = ()


def _resources(module: Any, where: str, gaps: list[str], depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > MAX_MODULE_DEPTH or not isinstance(module, dict):
        return
    items = module.get("resources") or []
    if not isinstance(items, list):
        gaps.append(f"{where}.resources is {type(items).__name__}, expected a list")
        items = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("type"), str):
            yield item
        else:
            gaps.append(f"{where}: a resource that is not an object with a type")
    children = module.get("child_modules") or []
    if not isinstance(children, list):
        gaps.append(f"{where}.child_modules is {type(children).__name__}, expected a list")
        children = []
    for i, child in enumerate(children):
        yield from _resources(child, f"{where}.child_modules[{i}]", gaps, depth + 1)


def _config_refs(module: Any, prefix: str, out: dict[str, dict[str, list[str]]], depth: int = 0) -> None:
    """address -> attribute -> referenced addresses, from the plan's `configuration` section."""
    if depth > MAX_MODULE_DEPTH or not isinstance(module, dict):
        return
    for res in module.get("resources") or []:
        if not isinstance(res, dict) or not isinstance(res.get("address"), str):
            continue
        refs: dict[str, list[str]] = {}
        for attr, expr in (res.get("expressions") or {}).items():
            if isinstance(expr, dict) and isinstance(expr.get("references"), list):
                refs[attr] = [prefix + r for r in expr["references"] if isinstance(r, str)]
        out[prefix + res["address"]] = refs
    for name, call in (module.get("module_calls") or {}).items():
        if isinstance(call, dict):
            _config_refs(call.get("module"), f"{prefix}module.{name}.", out, depth + 1)


def _base_address(address: str) -> str:
    """`module.m.azurerm_x.y["k"]` -> `module.m.azurerm_x.y` (configuration addresses carry no index)."""
    return address.split("[", 1)[0]


def _block(value: Any) -> dict[str, Any]:
    """A nested block: Terraform JSON gives a list of one object (or an empty list)."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _last(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1] if resource_id else ""


class _TerraformReader:
    def __init__(self, path: Path, doc: dict[str, Any]):
        self.path = str(path)
        self.doc = doc
        self.gaps: list[CollectionGap] = []
        self.by_address: dict[str, _Res] = {}
        self.lines = JsonStringLines(self.path)

    def gap(self, message: str, address: str = "") -> None:
        self.gaps.append(CollectionGap("unparseable", self.path, f"{address}: {message}" if address else message,
                                       resource=address))

    # ------------------------------------------------------------------------------ reading

    def load(self) -> list[_Res]:
        messages: list[str] = []
        refs: dict[str, dict[str, list[str]]] = {}
        config = self.doc.get("configuration")
        if isinstance(config, dict):
            _config_refs(config.get("root_module"), "", refs)
        values = self.doc.get("planned_values") if isinstance(self.doc.get("planned_values"), dict) else None
        if values is None:
            values = self.doc.get("values") if isinstance(self.doc.get("values"), dict) else {}
        out = []
        for item in _resources(values.get("root_module"), "root_module", messages):
            address = as_str(item.get("address")) or f"{item['type']}.{as_str(item.get('name'))}"
            vals = item.get("values")
            if not isinstance(vals, dict):
                self.gap(f"values is {type(vals).__name__}, expected an object", address)
                continue
            vals = _masked(vals, item.get("sensitive_values"))
            res = _Res(address, item["type"], as_str(item.get("name")), vals, refs.get(_base_address(address), {}))
            self.by_address[_base_address(address)] = res
            self.by_address[address] = res
            out.append(res)
        for message in messages:
            self.gap(message)
        return out

    def link(self, res: _Res, attr: str, kind: str | None = None) -> str:
        """An attribute's value, or the name/id of the resource the configuration says it references."""
        value = res.values.get(attr)
        if isinstance(value, str) and value:
            return value
        for target in res.refs.get(attr, []):
            ref = self.by_address.get(target) or self.by_address.get(target.rsplit(".", 1)[0])
            if ref is not None and (kind is None or ref.type == kind):
                wants_id = attr.endswith("_id") or attr == "scope"
                return self.resource_id(ref) if wants_id else as_str(ref.values.get("name")) or ref.name
        return ""

    def resource_id(self, res: _Res) -> str:
        if isinstance(res.values.get("id"), str) and res.values["id"]:
            return res.values["id"]
        rg = as_str(res.values.get("resource_group_name")) or "{resourceGroup}"
        name = as_str(res.values.get("name")) or res.name
        provider = {
            "azurerm_api_management": "Microsoft.ApiManagement/service",
            "azurerm_cognitive_account": "Microsoft.CognitiveServices/accounts",
            "azurerm_application_insights": "Microsoft.Insights/components",
            "azurerm_log_analytics_workspace": "Microsoft.OperationalInsights/workspaces",
            "azurerm_resource_group": None,
        }.get(res.type, f"terraform/{res.type}")
        base = f"/subscriptions/{{subscription}}/resourceGroups/{rg}"
        if res.type == "azurerm_resource_group":
            return f"/subscriptions/{{subscription}}/resourceGroups/{name}"
        return f"{base}/providers/{provider}/{name}"

    def policy(self, res: _Res, scope: str, label: str) -> Policy | None:
        xml = res.values.get("xml_content", res.values.get("value"))
        link = res.values.get("xml_link")
        fmt = as_str(res.values.get("format")) or "xml"
        if xml == SENSITIVE:
            self.gap(f"{label}: policy content is marked sensitive in the plan (it holds a sensitive value); not "
                     "read, so the secret stays out of every report: move it to a secret named value", res.address)
            return None
        if isinstance(xml, str) and xml.strip():
            line = self.lines.line_of(xml)
            return read_policy(xml, scope=scope, path=self.path if line else None, resource_id=res.address,
                               label=label, fmt=fmt, embedded_at=line)
        if isinstance(link, str) and link:
            self.gap(f"{label}: policy is a link (xml_link {link}); the linked policy was not audited", res.address)
        elif xml is None and "xml_content" not in res.values:
            self.gap(f"{label}: policy content is unknown until apply; not audited", res.address)
        return None

    # ------------------------------------------------------------------------------ building

    def build(self) -> Estate:
        services: dict[str, _Svc] = {}
        accounts: dict[str, dict[str, Any]] = {}
        deployments: dict[str, list[Deployment]] = defaultdict(list)
        projects: dict[str, list[Project]] = defaultdict(list)
        settings: list[DiagnosticSetting] = []
        assignments: list[RoleAssignment] = []
        definitions: list[RoleDefinition] = []
        apim_declared = False
        service_declared = False  # the plan creates the service itself: it is about its diagnostic settings

        def svc_of(res: _Res) -> _Svc | None:
            name = as_str(res.values.get("api_management_name")) or _last(self.link(res, "api_management_id"))
            if not name:
                name = self.link(res, "api_management_name", "azurerm_api_management")
            if not name:
                self.gap("the API Management service it belongs to is unknown; not audited", res.address)
                return None
            if name not in services:
                rg = as_str(res.values.get("resource_group_name")) or "{resourceGroup}"
                rid = f"/subscriptions/{{subscription}}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{name}"
                services[name] = _Svc(name, rid, origin=Origin(self.path, None, rid, f"service '{name}'"))
            return services[name]

        for res in self.load():
            v, t = res.values, res.type
            try:
                if t == "azurerm_api_management":
                    apim_declared = service_declared = True
                    name = as_str(v.get("name")) or res.name
                    rid = self.resource_id(res)
                    s = services.setdefault(name, _Svc(name, rid))
                    s.resource_id, s.location = rid, as_str(v.get("location"))
                    s.origin = Origin(self.path, None, res.address, f"service '{name}'")
                    s.tags = tags_from(v.get("tags"))
                    continue
                if t.startswith("azurerm_api_management_"):
                    apim_declared = True
                    s = svc_of(res)
                    if s is not None:
                        self._apim(s, res)
                elif t == "azapi_resource" and as_str(v.get("type")).lower().startswith(
                        "microsoft.apimanagement/service/backends@"):
                    # backends (and pools, which azurerm cannot declare) written with the AzAPI provider
                    parent = _last(self.link(res, "parent_id"))
                    if parent:
                        s = services.setdefault(parent, _Svc(parent, f"/subscriptions/{{subscription}}/resourceGroups/"
                                                                     f"{{resourceGroup}}/providers/Microsoft.ApiManagement/service/{parent}"))
                        s.backends.append(_azapi_backend(as_str(v.get("name")) or res.name, v.get("body")))
                elif t == "azurerm_cognitive_account":
                    rid = self.resource_id(res)
                    acls = _block(v.get("network_acls"))
                    name = as_str(v.get("name")) or res.name
                    sub = as_str(v.get("custom_subdomain_name")) or name
                    accounts[rid.lower()] = dict(
                        resource_id=rid, name=name, kind=as_str(v.get("kind")), location=as_str(v.get("location")),
                        endpoint=as_str(v.get("endpoint")) or f"https://{sub}.openai.azure.com/",
                        disable_local_auth=None if v.get("local_auth_enabled") is None else not as_bool(v["local_auth_enabled"]),
                        public_network_access=None if v.get("public_network_access_enabled") is None else (
                            "Enabled" if as_bool(v["public_network_access_enabled"]) else "Disabled"),
                        network_default_action=as_str(acls.get("default_action")) or None,
                        origin=Origin(self.path, None, res.address, f"account '{name}'"),
                        tags=tags_from(v.get("tags")),
                    )
                elif t == "azurerm_cognitive_account_project" or (t == "azapi_resource" and as_str(
                        v.get("type")).lower().startswith("microsoft.cognitiveservices/accounts/projects@")):
                    # a Foundry project: azurerm's own resource, or AzAPI's (parent_id, tags beside the body)
                    account = self.link(res, "cognitive_account_id" if t != "azapi_resource" else "parent_id",
                                        "azurerm_cognitive_account")
                    name = as_str(v.get("name")) or res.name
                    body = v.get("body") if isinstance(v.get("body"), dict) else {}
                    projects[account.lower()].append(Project(
                        name, as_str(v.get("id")) or f"{account}/projects/{name}",
                        tags_from(v.get("tags") or body.get("tags")), Origin(self.path, None, res.address,
                                                                                f"project '{name}'")))
                elif t == "azurerm_cognitive_deployment":
                    account = self.link(res, "cognitive_account_id", "azurerm_cognitive_account")
                    model = _block(v.get("model"))
                    sku = _block(v.get("sku")) or _block(v.get("scale"))
                    capacity = sku.get("capacity")  # PTUs for a provisioned SKU
                    deployments[account.lower()].append(Deployment(
                        as_str(v.get("name")) or res.name, as_str(model.get("name")), as_str(model.get("version")),
                        as_str(sku.get("name") or sku.get("type")),
                        capacity if isinstance(capacity, int) and not isinstance(capacity, bool) else None,
                    ))
                elif t == "azurerm_monitor_diagnostic_setting":
                    settings.append(self._diag_setting(res))
                elif t == "azurerm_role_assignment":
                    role = as_str(v.get("role_definition_id")) or as_str(v.get("role_definition_name"))
                    assignments.append(RoleAssignment(
                        self.link(res, "scope"), role, as_str(v.get("principal_id")) or "{unknown principal}",
                        as_str(v.get("principal_type")), Origin(self.path, None, res.address, "role assignment"),
                    ))
                elif t == "azurerm_role_definition":
                    perms = v.get("permissions") if isinstance(v.get("permissions"), list) else []

                    def gather(key: str, perms: list = perms) -> tuple[str, ...]:
                        return tuple(a for p in perms if isinstance(p, dict) for a in (p.get(key) or []) if isinstance(a, str))

                    definitions.append(RoleDefinition(
                        as_str(v.get("role_definition_id")) or res.address, as_str(v.get("name")) or res.name,
                        gather("actions"), gather("not_actions"), gather("data_actions"),
                    ))
            except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
                self.gap(f"not read: {type(exc).__name__}: {exc}", res.address)

        carries = declared_kinds(bool(apim_declared), any(s.loggers or s.diagnostics for s in services.values()),
                                 bool(accounts), settings_about_audited(settings) or service_declared,
                                 bool(assignments))
        return Estate(
            sources=(SourceInfo("terraform", self.path, carries),),
            services=tuple(_service(s) for s in services.values()),
            accounts=tuple(
                AiAccount(**{**a, "deployments": tuple(deployments.get(a["resource_id"].lower(), ())),
                             "projects": tuple(projects.get(a["resource_id"].lower(), ()))})
                for a in accounts.values()
            ),
            diagnostic_settings=tuple(settings),
            role_assignments=tuple(assignments),
            role_definitions=tuple(definitions),
            gaps=tuple(self.gaps),
            root=str(Path(self.path).parent),
        )

    def _apim(self, s: _Svc, res: _Res) -> None:
        v, t = res.values, res.type[len("azurerm_api_management_"):]
        api = as_str(v.get("api_name")) or self.link(res, "api_name", "azurerm_api_management_api")
        if t == "policy":
            s.global_policy = self.policy(res, "global", "global policy")
        elif t == "api":
            name = as_str(v.get("name")) or res.name
            revision = as_str(v.get("revision"))
            key = name if not revision or revision == "1" else f"{name};rev={revision}"
            s.apis.setdefault(key, {}).update(values=v, address=res.address, name=key)
        elif t == "api_policy":
            s.apis.setdefault(api, {"name": api})["policy"] = self.policy(res, "api", f"api '{api}'")
        elif t == "api_operation":
            s.operations[api].append((as_str(v.get("operation_id")) or res.name, v, res.address))
        elif t == "api_operation_policy":
            op = as_str(v.get("operation_id")) or self.link(res, "operation_id")
            s.op_policies[(api, op)] = self.policy(res, "operation", f"operation '{op}'")
        elif t == "product":
            pid = as_str(v.get("product_id")) or res.name
            s.products.setdefault(pid, {}).update(values=v, address=res.address)
        elif t == "product_api":
            pid = as_str(v.get("product_id")) or self.link(res, "product_id")
            s.product_apis[pid].append(api)
        elif t == "product_policy":
            pid = as_str(v.get("product_id")) or self.link(res, "product_id")
            s.products.setdefault(pid, {})["policy"] = self.policy(res, "product", f"product '{pid}'")
        elif t == "policy_fragment":
            name = as_str(v.get("name")) or res.name
            policy = self.policy(res, "fragment", f"fragment '{name}'")
            if policy is not None:
                s.fragments.append(Fragment(name, policy))
        elif t == "named_value":
            name = as_str(v.get("name")) or res.name
            kv = bool(_block(v.get("value_from_key_vault")))
            s.named_values.append(NamedValue.read(
                name, as_str(v.get("display_name")), bool(as_bool(v.get("secret"))), kv,
                as_str(v.get("value")) or None, Origin(self.path, None, res.address, f"named value '{name}'"),
            ))
        elif t == "backend":
            s.backends.append(Backend(as_str(v.get("name")) or res.name, as_str(v.get("url")),
                                      resource_id=as_str(v.get("resource_id"))))
        elif t == "logger":
            kind = ("applicationInsights" if _block(v.get("application_insights")) else
                    "azureEventHub" if _block(v.get("eventhub")) else "azureMonitor")
            s.loggers.append(Logger(as_str(v.get("name")) or res.name, kind, as_str(v.get("resource_id"))))
        elif t in ("diagnostic", "api_diagnostic"):
            pct = v.get("sampling_percentage")
            s.diagnostics.append(Diagnostic(
                as_str(v.get("identifier")) or res.name,
                _last(as_str(v.get("api_management_logger_id")) or self.link(res, "api_management_logger_id")),
                api or None if t == "api_diagnostic" else None,
                as_bool(v.get("metrics")) if "metrics" in v else None,
                float(pct) if isinstance(pct, (int, float)) and not isinstance(pct, bool) else None,
                None,
                Origin(self.path, None, res.address, f"diagnostic '{as_str(v.get('identifier'))}'"),
            ))
        elif t == "workspace":
            s.workspaces.append(as_str(v.get("name")) or res.name)

    def _diag_setting(self, res: _Res) -> DiagnosticSetting:
        v = res.values
        logs = v.get("enabled_log") if isinstance(v.get("enabled_log"), list) else []
        legacy = v.get("log") if isinstance(v.get("log"), list) else []
        metrics = v.get("metric") if isinstance(v.get("metric"), list) else []
        entries = tuple(
            LogSetting(as_str(b.get("category")) or None, as_str(b.get("category_group")) or None,
                       as_bool(b.get("enabled")) is not False)
            for b in [*logs, *legacy] if isinstance(b, dict)
        )
        metric_entries = tuple(
            LogSetting(as_str(b.get("category")) or None, None, as_bool(b.get("enabled")) is not False)
            for b in metrics if isinstance(b, dict)
        )
        target = self.link(res, "target_resource_id")
        if not target:
            self.gap("diagnostic setting whose target resource is unknown", res.address)
        return DiagnosticSetting(
            target, as_str(v.get("name")) or res.name, self.link(res, "log_analytics_workspace_id") or None,
            entries, metric_entries, as_str(v.get("log_analytics_destination_type")) or None,
            Origin(self.path, None, res.address, f"diagnostic setting '{as_str(v.get('name'))}'"),
        )


def _service(s: _Svc) -> ApimService:
    apis = []
    # Operation policies grouped by API once: scanning all of them for every API made a plan quadratic.
    policies_by_api: dict[str, list[tuple[str, Policy | None]]] = {}
    for (api, op), pol in s.op_policies.items():
        policies_by_api.setdefault(api, []).append((op, pol))
    for key, a in s.apis.items():
        v = a.get("values") or {}
        base_key = key.split(";rev=")[0]
        ops = []
        for op_id, ov, _address in s.operations.get(base_key, []):
            ops.append(Operation(op_id, as_str(ov.get("method")), as_str(ov.get("url_template")),
                                 as_str(ov.get("display_name")), s.op_policies.get((base_key, op_id))))
        known = {o.name for o in ops}
        ops += [Operation(op, policy=pol) for op, pol in policies_by_api.get(base_key, ()) if op not in known]
        apis.append(Api(
            name=key,
            display_name=as_str(v.get("display_name")) or key,
            path=as_str(v.get("path")),
            service_url=as_str(v.get("service_url")),
            api_type=as_str(v.get("api_type")),
            subscription_required=as_bool(v.get("subscription_required")),
            is_current=as_bool(v.get("is_current")) is not False,
            revision=as_str(v.get("revision")),
            policy=a.get("policy"),
            operations=tuple(ops),
            origin=Origin(None, None, a.get("address"), f"api '{key}'"),
        ))
    products = []
    for pid, prod in s.products.items():
        v = prod.get("values") or {}
        products.append(Product(
            pid, as_str(v.get("display_name")) or pid, as_bool(v.get("subscription_required")),
            tuple(dict.fromkeys(s.product_apis.get(pid, []))), None, prod.get("policy"),
            Origin(None, None, prod.get("address"), f"product '{pid}'"),
        ))
    return ApimService(
        name=s.name, resource_id=s.resource_id, location=s.location, global_policy=s.global_policy,
        workspaces=tuple(Workspace(w) for w in s.workspaces), products=tuple(products), apis=tuple(apis),
        fragments=tuple(s.fragments), named_values=tuple(s.named_values), backends=tuple(s.backends),
        loggers=tuple(s.loggers), diagnostics=tuple(s.diagnostics), origin=s.origin, tags=s.tags,
    )


# ------------------------------------------------------------------------------ streaming

# What the reader uses of a `terraform show -json` document, per the JSON Output Format
# (https://developer.hashicorp.com/terraform/internals/json-format): a plan's `planned_values` (or a state's
# `values`), a "values representation" of every resource, module by module, and the `configuration`
# representation, for the references of attributes unknown until apply. `resource_changes` (each resource again,
# with `before`/`after`), `prior_state` (the state before the plan, a third copy), `resource_drift`,
# `output_changes`, `variables`, `checks` and `relevant_attributes` are not read, so they are never built: a plan
# carries each resource two or three times, and building all of it cost three times the memory of what is read.
_READ_KEYS = frozenset({"format_version", "planned_values", "values", "configuration"})
# In `configuration`, only `expressions[...].references` is read: `constant_value` holds each attribute as written
# in the configuration (policy texts too, once more) and is not kept.
_CONFIG_SKIP = frozenset({"constant_value"})
_NOTHING: frozenset[str] = frozenset()
_HEAD = 4096


def stream_show_json(path: str) -> dict[str, Any] | None:
    """The parts of a `terraform show -json` document that the reader uses, read as a stream, or None when this file
    is not one that streams cleanly (not a Terraform document, invalid JSON, a BOM or UTF-16, over the size limit):
    the caller then reads it whole, as before, and reports what is wrong with it in the same words. Terraform writes
    `format_version` first, so a file that does not name it near the top is left to the whole-file reader too."""
    try:
        import ijson  # C backend (yajl2_c) in its wheels; BSD-3-Clause AND ISC
    except ImportError:
        return None
    try:
        if os.path.getsize(path) > MAX_JSON_BYTES:
            return None
        with open(path, "rb") as fh:
            if b'"format_version"' not in fh.read(_HEAD):
                return None
            fh.seek(0)
            events = ijson.basic_parse(fh, use_float=True)  # floats as json.load reads them, not Decimal
            event, _value = next(events)
            if event != "start_map":
                return None
            doc: dict[str, Any] = {}
            memo: dict[str, str] = {}
            for event, key in events:
                if event == "end_map":
                    break
                event, value = next(events)
                if key in _READ_KEYS:
                    skip = _CONFIG_SKIP if key == "configuration" else _NOTHING
                    doc[key] = _build(events, event, value, skip, memo)
                else:
                    _skip(events, event)
            for _extra in events:
                return None  # trailing content: not JSON; the whole-file reader says so
    except Exception:  # any failure to stream (invalid JSON, encoding, depth): read it whole instead
        return None
    if "format_version" in doc and ("planned_values" in doc or "values" in doc):
        return doc
    return None


_MEMO_CHARS = 256


def _build(events: Iterator[tuple[str, Any]], event: str, value: Any, skip: frozenset[str], memo: dict[str, str]) -> Any:
    """The value that starts with (event, value), leaving out members named in `skip`. Keys and short strings
    repeat in every resource (`api_management_name`, the service's name, its resource group): `memo` keeps one
    copy of each, as json.load does for keys."""
    if event == "start_map":
        obj: dict[str, Any] = {}
        for event, key in events:
            if event == "end_map":
                return obj
            key = memo.setdefault(key, key)
            event, value = next(events)
            if key in skip:
                _skip(events, event)
            else:
                obj[key] = _build(events, event, value, skip, memo)
        raise ValueError("unexpected end of JSON")
    if event == "start_array":
        arr: list[Any] = []
        for event, value in events:
            if event == "end_array":
                return arr
            arr.append(_build(events, event, value, skip, memo))
        raise ValueError("unexpected end of JSON")
    if event == "string" and len(value) < _MEMO_CHARS:
        return memo.setdefault(value, value)
    return value


def _skip(events: Iterator[tuple[str, Any]], event: str) -> None:
    if event not in ("start_map", "start_array"):
        return
    depth = 1
    for event, _value in events:
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
            if not depth:
                return
    raise ValueError("unexpected end of JSON")


def read_terraform(path: str | Path, doc: dict[str, Any]) -> Estate:
    reader = _TerraformReader(Path(path), doc)
    return reader.build()


def _azapi_backend(name: str, body: Any) -> Backend:
    """An azapi_resource body (an object, or JSON text in azapi 1.x) as a backend: url, pool members."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = {}
    props = _block(_block(body).get("properties"))
    pool = _block(props.get("pool"))
    members = tuple(as_str(m.get("id")) for m in pool.get("services") or [] if isinstance(m, dict))
    kind = "pool" if members or as_str(props.get("type")).lower() == "pool" else "single"
    return Backend(name, as_str(props.get("url")), kind, members, as_str(props.get("resourceId")))

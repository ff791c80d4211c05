"""Terraform `terraform show -json` output (plan or state) as a source.

Reads the azurerm resources that make up an APIM estate, the Azure OpenAI accounts, diagnostic settings
and role assignments. In a plan, attributes computed at apply time (ids, most links) are unknown; links are
then taken from the configuration's references (`azurerm_cognitive_account.aoai.id`), so a plan can be
audited before it is applied. Origins name the Terraform address. Wrong types are gaps, never exceptions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...estate import (
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
    Project,
    RoleAssignment,
    RoleDefinition,
    tags_from,
)
from ...policy.rawxml import read_policy
from ...policy.tree import Origin, Policy, unknown_policy
from ..assemble import Dialect, EstateParts, Key, ServiceParts, build_estate
from ..files import as_bool, as_str
from ..json_lines import JsonPathLines
from ..json_shape import arr, obj
from .plan import (
    SENSITIVE,
    PlanResource,
    azapi_backend,
    base_address,
    block,
    config_refs,
    last,
    masked,
    resources_of,
)


class TerraformReader:
    def __init__(self, path: Path, doc: dict[str, Any]):
        self.path = str(path)
        self.doc = doc
        self.gaps: list[CollectionGap] = []
        self.by_address: dict[str, PlanResource] = {}
        # each policy text's line by its JSON path, never by its text
        self.lines = JsonPathLines(self.path, frozenset({"xml_content", "value"}))

    def gap(self, message: str, address: str = "") -> None:
        self.gaps.append(CollectionGap("unparseable", self.path, f"{address}: {message}" if address else message,
                                       resource=address))

    # ------------------------------------------------------------------------------ reading

    def load(self) -> list[PlanResource]:
        messages: list[str] = []
        refs: dict[str, dict[str, list[str]]] = {}
        config = self.doc.get("configuration")
        if isinstance(config, dict):
            config_refs(config.get("root_module"), "", refs)
        top = "planned_values" if isinstance(self.doc.get("planned_values"), dict) else "values"
        values = obj(self.doc.get(top))
        out = []
        for item, at in resources_of(values.get("root_module"), "root_module", messages, at=(top, "root_module")):
            address = as_str(item.get("address")) or f"{item['type']}.{as_str(item.get('name'))}"
            vals = item.get("values")
            if not isinstance(vals, dict):
                self.gap(f"values is {type(vals).__name__}, expected an object", address)
                continue
            vals = masked(vals, item.get("sensitive_values"))
            res = PlanResource(address, item["type"], as_str(item.get("name")), vals, refs.get(base_address(address), {}),
                               at)
            self.by_address[base_address(address)] = res
            self.by_address[address] = res
            out.append(res)
        for message in messages:
            self.gap(message)
        return out

    def link(self, res: PlanResource, attr: str, kind: str | None = None) -> str:
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

    def resource_id(self, res: PlanResource) -> str:
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

    def policy(self, res: PlanResource, scope: str, label: str) -> Policy | None:
        attr = "xml_content" if "xml_content" in res.values else "value"
        xml = res.values.get(attr)
        link = res.values.get("xml_link")
        fmt = as_str(res.values.get("format")) or "xml"
        if xml == SENSITIVE:
            self.gap(f"{label}: policy content is marked sensitive in the plan (it holds a sensitive value); not "
                     "read, so the secret stays out of every report: move it to a secret named value", res.address)
            return None
        if isinstance(xml, str) and xml.strip():
            line = self.lines.line_at((*res.path, "values", attr))  # this resource's own value
            return read_policy(xml, scope=scope, path=self.path if line else None, resource_id=res.address,
                               label=label, fmt=fmt, embedded_at=line)
        if isinstance(link, str) and link:  # declared but unknown: AU002 once, its API's policy rules silent
            return unknown_policy(scope, f"policy is a link (xml_link {link}); the linked policy was not audited",
                                  resource_id=res.address, label=label)
        if xml is None and "xml_content" not in res.values:
            return unknown_policy(scope, "policy content is unknown until apply; not audited",
                                  resource_id=res.address, label=label)
        return None

    # ------------------------------------------------------------------------------ building

    def build(self) -> Estate:
        parts = EstateParts()
        services, accounts, deployments = parts.services, parts.accounts, parts.deployments
        settings, assignments, definitions = parts.settings, parts.assignments, parts.definitions
        apim_declared = False
        service_declared = False  # the plan creates the service itself: it is about its diagnostic settings

        def svc_of(res: PlanResource) -> ServiceParts | None:
            name = as_str(res.values.get("api_management_name")) or last(self.link(res, "api_management_id"))
            if not name:
                name = self.link(res, "api_management_name", "azurerm_api_management")
            if not name:
                self.gap("the API Management service it belongs to is unknown; not audited", res.address)
                return None
            if name not in services:
                rg = as_str(res.values.get("resource_group_name")) or "{resourceGroup}"
                rid = f"/subscriptions/{{subscription}}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{name}"
                services[name] = ServiceParts(name, rid, origin=Origin(self.path, None, rid, f"service '{name}'"))
            return services[name]

        for res in self.load():
            v, t = res.values, res.type
            try:
                if t == "azurerm_api_management":
                    apim_declared = service_declared = True
                    name = as_str(v.get("name")) or res.name
                    rid = self.resource_id(res)
                    s = services.setdefault(name, ServiceParts(name, rid))
                    s.resource_id, s.location = rid, as_str(v.get("location"))
                    s.origin = Origin(self.path, None, res.address, f"service '{name}'")
                    s.tags = tags_from(v.get("tags"))
                    continue
                if t.startswith("azurerm_api_management_"):
                    apim_declared = True
                    owner = svc_of(res)
                    if owner is not None:
                        self._apim(owner, res)
                elif t == "azapi_resource" and as_str(v.get("type")).lower().startswith(
                        "microsoft.apimanagement/service/backends@"):
                    # backends (and pools, which azurerm cannot declare) written with the AzAPI provider
                    parent = last(self.link(res, "parent_id"))
                    if parent:
                        s = services.setdefault(parent, ServiceParts(parent, f"/subscriptions/{{subscription}}/resourceGroups/"
                                                                     f"{{resourceGroup}}/providers/Microsoft.ApiManagement/service/{parent}"))
                        s.backends.append(azapi_backend(as_str(v.get("name")) or res.name, v.get("body")))
                elif t == "azurerm_cognitive_account":
                    rid = self.resource_id(res)
                    acls = block(v.get("network_acls"))
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
                    body = obj(v.get("body"))
                    parts.projects[account.lower()].append(Project(
                        name, as_str(v.get("id")) or f"{account}/projects/{name}",
                        tags_from(v.get("tags") or body.get("tags")), Origin(self.path, None, res.address,
                                                                                f"project '{name}'")))
                elif t == "azurerm_cognitive_deployment":
                    account = self.link(res, "cognitive_account_id", "azurerm_cognitive_account")
                    model = block(v.get("model"))
                    sku = block(v.get("sku")) or block(v.get("scale"))
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
                    perms = arr(v.get("permissions"))

                    def gather(key: str, perms: list = perms) -> tuple[str, ...]:
                        return tuple(a for p in perms if isinstance(p, dict) for a in (p.get(key) or []) if isinstance(a, str))

                    definitions.append(RoleDefinition(
                        as_str(v.get("role_definition_id")) or res.address, as_str(v.get("name")) or res.name,
                        gather("actions"), gather("not_actions"), gather("data_actions"),
                    ))
            except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
                self.gap(f"not read: {type(exc).__name__}: {exc}", res.address)

        return build_estate("terraform", self.path, str(Path(self.path).parent), parts, self.gaps, TERRAFORM,
                            declares_apim=bool(apim_declared), declares_service=service_declared)

    def _apim(self, s: ServiceParts, res: PlanResource) -> None:
        v, t = res.values, res.type[len("azurerm_api_management_"):]
        api = as_str(v.get("api_name")) or self.link(res, "api_name", "azurerm_api_management_api")
        if t == "policy":
            s.global_policy = self.policy(res, "global", "global policy")
        elif t == "api":
            name = as_str(v.get("name")) or res.name
            revision = as_str(v.get("revision"))
            key = name if not revision or revision == "1" else f"{name};rev={revision}"
            s.apis.setdefault((None, key), {}).update(values=v, address=res.address, name=key)
        elif t == "api_policy":
            s.apis.setdefault((None, api), {"name": api})["policy"] = self.policy(res, "api", f"api '{api}'")
        elif t == "api_operation":
            s.operations[(None, api)].append(Operation(as_str(v.get("operation_id")) or res.name, as_str(v.get("method")),
                                                   as_str(v.get("url_template")), as_str(v.get("display_name"))))
        elif t == "api_operation_policy":
            op = as_str(v.get("operation_id")) or self.link(res, "operation_id")
            s.op_policies[(None, api)][op] = self.policy(res, "operation", f"operation '{op}'")
        elif t == "product":
            pid = as_str(v.get("product_id")) or res.name
            s.products.setdefault((None, pid), {}).update(values=v, address=res.address)
        elif t == "product_api":
            pid = as_str(v.get("product_id")) or self.link(res, "product_id")
            s.product_apis[(None, pid)].append(api)
        elif t == "product_policy":
            pid = as_str(v.get("product_id")) or self.link(res, "product_id")
            s.products.setdefault((None, pid), {})["policy"] = self.policy(res, "product", f"product '{pid}'")
        elif t == "policy_fragment":
            name = as_str(v.get("name")) or res.name
            policy = self.policy(res, "fragment", f"fragment '{name}'")
            if policy is not None:
                s.fragments.append(Fragment(name, policy))
        elif t == "named_value":
            name = as_str(v.get("name")) or res.name
            kv = bool(block(v.get("value_from_key_vault")))
            s.named_values.append(NamedValue.read(
                name, as_str(v.get("display_name")), bool(as_bool(v.get("secret"))), kv,
                as_str(v.get("value")) or None, Origin(self.path, None, res.address, f"named value '{name}'"),
            ))
        elif t == "backend":
            s.backends.append(Backend(as_str(v.get("name")) or res.name, as_str(v.get("url")),
                                      resource_id=as_str(v.get("resource_id"))))
        elif t == "logger":
            kind = ("applicationInsights" if block(v.get("application_insights")) else
                    "azureEventHub" if block(v.get("eventhub")) else "azureMonitor")
            s.loggers.append(Logger(as_str(v.get("name")) or res.name, kind, as_str(v.get("resource_id"))))
        elif t in ("diagnostic", "api_diagnostic"):
            pct = v.get("sampling_percentage")
            s.diagnostics.append(Diagnostic(
                as_str(v.get("identifier")) or res.name,
                last(as_str(v.get("api_management_logger_id")) or self.link(res, "api_management_logger_id")),
                api or None if t == "api_diagnostic" else None,
                as_bool(v.get("metrics")) if "metrics" in v else None,
                float(pct) if isinstance(pct, (int, float)) and not isinstance(pct, bool) else None,
                None,
                Origin(self.path, None, res.address, f"diagnostic '{as_str(v.get('identifier'))}'"),
            ))
        elif t == "workspace":
            s.workspaces.setdefault(as_str(v.get("name")) or res.name, None)

    def _diag_setting(self, res: PlanResource) -> DiagnosticSetting:
        v = res.values
        logs = arr(v.get("enabled_log"))
        legacy = arr(v.get("log"))
        metrics = arr(v.get("metric"))
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


def read_terraform(path: str | Path, doc: dict[str, Any]) -> Estate:
    reader = TerraformReader(Path(path), doc)
    return reader.build()


def _api_fields(p: ServiceParts, key: Key, draft: dict[str, Any]) -> dict[str, Any]:
    name = key[1]
    v = draft.get("values") or {}
    return dict(
        display_name=as_str(v.get("display_name")) or name,
        path=as_str(v.get("path")),
        service_url=as_str(v.get("service_url")),
        api_type=as_str(v.get("api_type")),
        subscription_required=as_bool(v.get("subscription_required")),
        is_current=as_bool(v.get("is_current")) is not False,
        revision=as_str(v.get("revision")),
        origin=Origin(None, None, draft.get("address"), f"api '{name}'"),
    )


def _product_fields(p: ServiceParts, key: Key, draft: dict[str, Any]) -> dict[str, Any]:
    pid = key[1]
    v = draft.get("values") or {}
    return dict(display_name=as_str(v.get("display_name")) or pid,
                subscription_required=as_bool(v.get("subscription_required")),
                origin=Origin(None, None, draft.get("address"), f"product '{pid}'"))


# A revision (`chat;rev=2`) has the operations declared for the API it revises.
TERRAFORM = Dialect(_api_fields, _product_fields, lambda key: (key[0], key[1].split(";rev=")[0]))

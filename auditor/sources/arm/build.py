"""From the resources an ARM template declares to the estate: APIM services and their parts, accounts and
deployments, diagnostic settings and roles. Policies are read from their `value` with the template's line, so
findings point into the JSON file. Wrong types anywhere are gaps, never exceptions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...estate import (
    Backend,
    Deployment,
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
from ..apiops import diagnostic_from_props
from ..assemble import Dialect, EstateParts, Key, ServiceParts, build_estate
from ..files import as_bool, as_str
from ..json_shape import arr, obj
from ..spec import operations_from_spec
from .resources import APIM, LLM_ACCOUNT_KINDS, Resource, absolute, account_properties
from .values import RESOURCE_GROUP, Text, Unknown, is_expression, is_unknown
from .walk import TemplateWalker


class ArmReader(TemplateWalker):
    def line_at(self, res: Resource, *keys: str) -> int | None:
        """Line of a value of this resource's own declaration (its JSON path), never of a string that reads the
        same elsewhere: two policies with byte-identical text are each at their own line."""
        return self.paths.line_at((*res.path, *keys)) if res.path is not None else None

    def policy(self, res: Resource, scope: str, label: str) -> Policy | None:
        ev = res.ev
        fmt = ev.string(res.props.get("format")).lower() or "xml"
        key = "value" if "value" in res.props else "policyContent"
        value = res.props.get(key)
        rid = self.resource_id(res)
        if fmt.endswith("-link"):  # declared but unknown: AU002 once, and its API's policy rules stay silent
            return unknown_policy(scope, f"policy is a link ({fmt}) to {ev.string(value)}; the linked policy was not "
                                  "audited (export it inline, e.g. with format rawxml)", path=self.path,
                                  line=self._line_of_resource(res), resource_id=rid, label=label)
        if not isinstance(value, str):
            self.gap(f"policy value is {type(value).__name__}, expected a string", label, self._line_of_resource(res))
            return None
        line = self.line_at(res, "properties", key)  # where this resource's value is written
        if is_expression(value):
            evaluated = ev.value(value)
            resolved = evaluated if isinstance(evaluated, str) else str(evaluated) if is_unknown(evaluated) else ""
            if isinstance(evaluated, Unknown):  # a deploy-time value: unknown, not absent
                return unknown_policy(scope, f"policy text comes from {evaluated}, which only the deployment knows; "
                                      "not audited", path=self.path, line=self._line_of_resource(res),
                                      resource_id=rid, label=label)
            if not resolved.lstrip().startswith("<"):
                self.gap("policy text is not policy XML once evaluated; not audited", label, self._line_of_resource(res))
                return None
            # text built by replace()/format(): its line is the value's own when the literal is written in it; a
            # literal the value only names (`variables('p')`, a parameter's default) is at the line that holds it
            parts = evaluated.parts if isinstance(evaluated, Text) else (resolved,)
            longest = max((p for p in parts if isinstance(p, str)), key=len, default="")
            if not longest.strip() or longest.strip()[:60].replace("'", "''") not in value:  # '' : a quote in ARM
                line = self.lines.line_of(resolved) or self._line_of_fragment(longest) or line
            value = resolved
        return read_policy(value, scope=scope, path=self.path, resource_id=rid, label=label, fmt=fmt,
                           embedded_at=line or self._line_of_resource(res) or 1)

    def _line_of_fragment(self, fragment: str) -> int | None:
        """Line of the JSON string that holds this text (a policy assembled by replace() or format() from a literal
        the resource's value only names)."""
        needle = json.dumps(fragment.strip()[:60])[1:-1]
        if len(needle) < 16:
            return None
        if self._text is None:
            try:
                self._text = Path(self.path).read_text(encoding="utf-8-sig", errors="replace")
            except OSError:
                self._text = ""
        at = self._text.find(needle)
        return self._text.count("\n", 0, at) + 1 if at >= 0 and "\n" in self._text else None

    def _line_of_resource(self, res: Resource) -> int | None:
        return self.line_at(res, "name")

    def origin(self, res: Resource, label: str) -> Origin:
        return Origin(self.path, self._line_of_resource(res), self.resource_id(res), looped(res, label))

    def build(self) -> Estate:
        parts = EstateParts()
        services = parts.services

        def svc(res: Resource) -> ServiceParts:
            name = res.names[0]
            if name not in services:
                rid = f"{RESOURCE_GROUP}/providers/Microsoft.ApiManagement/service/{name}"
                services[name] = ServiceParts(name, rid, origin=Origin(self.path, None, rid, f"service '{name}'"))
            return services[name]

        for res in self.resources:
            self.ev = res.ev
            wanted = len(res.type.split("/")) - 1  # one name per type segment after the namespace
            if "/providers/" not in res.type and len(res.names) < wanted:
                self.gap(f"{res.type} not read: its name has {len(res.names)} segment(s) "
                         f"({'/'.join(res.names)}), the type needs {wanted}", res.address, self._line_of_resource(res))
                continue
            try:
                self._one(res, svc, parts)
            except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
                self.gap(f"{res.type} not read: {type(exc).__name__}: {exc}", res.address)
        declares_apim = bool(services)
        for s in services.values():  # a product the template links APIs to without declaring it
            for key in s.product_apis:
                s.products.setdefault(key, {"linked_only": True})
        return build_estate("arm", self.path, str(Path(self.path).parent), parts, self.gaps + self.bound_gaps(), ARM,
                            declares_apim=declares_apim, declares_service=self.declares_service)

    def _one(self, res: Resource, svc: Callable[[Resource], ServiceParts], parts: EstateParts) -> None:
        t, n = res.type, res.names
        accounts, deployments, settings = parts.accounts, parts.deployments, parts.settings
        assignments, definitions = parts.assignments, parts.definitions
        # property values as the deployment would see them, objects kept objects (policy values are read apart)
        p = res.ev.resolve({k: v for k, v in res.props.items() if not (k == "value" and "/policies" in t)})
        if "/providers/microsoft.insights/diagnosticsettings" in t or t.endswith("providers/diagnosticsettings"):
            base_type = t.split("/providers/")[0]
            depth = len(base_type.split("/")) - 1
            base = Resource(base_type, n[:depth], {}, {}, res.address)
            settings.append(self._diag_setting(self.resource_id(base), n[-1], p, res))
            return
        if t == "microsoft.insights/diagnosticsettings":
            target = res.scope or ""
            if not target:
                self.gap("diagnostic setting without a scope: the resource it belongs to is unknown", res.address)
                return
            settings.append(self._diag_setting(absolute(target), n[-1], p, res))
            return
        if t.endswith("microsoft.authorization/roleassignments") or t.endswith("providers/roleassignments"):
            scope = res.scope or (self.resource_id(Resource(t.split("/providers/")[0], n[:-2], {}, {}, ""))
                                  if "/providers/" in t else RESOURCE_GROUP)
            assignments.append(RoleAssignment(
                absolute(scope), as_str(p.get("roleDefinitionId")), as_str(p.get("principalId")),
                as_str(p.get("principalType")), Origin(self.path, self._line_of_resource(res), None, looped(res, "role assignment")),
            ))
            return
        if t == "microsoft.authorization/roledefinitions":
            perms = arr(p.get("permissions"))

            def gather(key: str) -> tuple[str, ...]:
                return tuple(a for perm in perms if isinstance(perm, dict) for a in perm.get(key) or [] if isinstance(a, str))

            definitions.append(RoleDefinition(n[-1], as_str(p.get("roleName")) or n[-1], gather("actions"),
                                              gather("notActions"), gather("dataActions")))
            return
        if t == "microsoft.cognitiveservices/accounts":
            kind = res.ev.string(res.raw.get("kind"))
            if res.existing or (kind and not kind.startswith("{") and kind.lower() not in LLM_ACCOUNT_KINDS):
                return  # referenced only, or not an Azure OpenAI / AI Services account (as the live source reads)
            rid = self.resource_id(res)
            acls = obj(p.get("networkAcls"))
            accounts[rid.lower()] = dict(
                resource_id=rid, name=n[0], kind=kind, location=self._ev(res.raw.get("location")),
                endpoint=as_str(p.get("endpoint")) or str(account_properties(res)["endpoint"]),
                disable_local_auth=as_bool(p.get("disableLocalAuth")),
                public_network_access=as_str(p.get("publicNetworkAccess")) or None,
                network_default_action=as_str(acls.get("defaultAction")) or None,
                origin=self.origin(res, f"account '{n[0]}'"),
                tags=tags_from(res.ev.resolve(res.raw.get("tags"))),
            )
            return
        if t == "microsoft.cognitiveservices/accounts/projects":
            # a Foundry project: grouped inside its AIServices account, billed as the account
            parent = self.resource_id(Resource("microsoft.cognitiveservices/accounts", n[:1], {}, {}, "")).lower()
            parts.projects[parent].append(Project(n[-1], self.resource_id(res), tags_from(res.ev.resolve(
                res.raw.get("tags"))), self.origin(res, f"project '{n[-1]}'")))
            return
        if t == "microsoft.cognitiveservices/accounts/deployments":
            parent = self.resource_id(Resource("microsoft.cognitiveservices/accounts", n[:1], {}, {}, "")).lower()
            model = obj(p.get("model"))
            sku = res.ev.resolve(res.raw.get("sku"))
            sku = sku if isinstance(sku, dict) else {}
            capacity = res.ev.resolve(sku.get("capacity"))  # PTUs for a provisioned SKU
            deployments[parent].append(Deployment(
                n[-1], as_str(model.get("name")), as_str(model.get("version")), as_str(sku.get("name")),
                capacity if isinstance(capacity, int) and not isinstance(capacity, bool) else None,
                tags_from(res.ev.resolve(res.raw.get("tags")))))
            return
        if not t.startswith(APIM):
            return
        kinds = t[len(APIM):].strip("/").split("/") if t != APIM else []
        service = svc(res)
        ws: str | None = None
        if kinds[:1] == ["workspaces"] and len(n) >= 2:
            ws = n[1]
            if len(kinds) == 1:
                service.workspaces.setdefault(ws, None)
                return
            kinds, n = kinds[1:], [n[0], *n[2:]]
        self._apim(service, kinds, n, p, res, ws)

    def _apim(self, parts: ServiceParts, kinds: list[str], n: list[str], p: dict, res: Resource, ws: str | None):
        if not kinds:
            self.declares_service = True
            parts.location = self._ev(res.raw.get("location"))
            parts.origin = self.origin(res, f"service '{n[0]}'")
            parts.tags = tags_from(res.ev.resolve(res.raw.get("tags")))
            return
        k = "/".join(kinds)
        if k == "policies":
            policy = self.policy(res, "workspace" if ws else "global", f"workspace '{ws}'" if ws else "global policy")
            if ws:
                parts.workspaces[ws] = policy
            else:
                parts.global_policy = policy
        elif k == "apis":
            api = parts.apis.setdefault((ws, n[1]), {})
            api.update(name=n[1], props=p, line=self._line_of_resource(res))
        elif k == "apis/policies":
            parts.apis.setdefault((ws, n[1]), {"name": n[1]})["policy"] = self.policy(res, "api", f"api '{n[1]}'")
        elif k == "apis/operations":
            parts.operations[(ws, n[1])].append(Operation(
                n[2], as_str(p.get("method")), as_str(p.get("urlTemplate")), as_str(p.get("displayName")),
            ))
        elif k == "apis/operations/policies":
            policy = self.policy(res, "operation", f"operation '{n[2]}'")
            parts.apis.setdefault((ws, n[1]), {"name": n[1]})
            parts.op_policies[(ws, n[1])][n[2]] = policy
        elif k == "products":
            parts.products.setdefault((ws, n[1]), {}).update(name=n[1], props=p)
        elif k == "products/policies":
            parts.products.setdefault((ws, n[1]), {"name": n[1]})["policy"] = self.policy(res, "product", f"product '{n[1]}'")
        elif k == "products/apis":
            parts.product_apis[(ws, n[1])].append(n[2])
        elif k == "products/apilinks":
            api_id = as_str(p.get("apiId"))
            parts.product_apis[(ws, n[1])].append(api_id.rstrip("/").rsplit("/", 1)[-1] if api_id else n[2])
        elif k == "policyfragments":
            policy = self.policy(res, "fragment", f"fragment '{n[1]}'")
            if policy is not None:
                parts.fragments.append(Fragment(n[1], policy, ws))
        elif k == "namedvalues":
            parts.named_values.append(NamedValue.read(
                n[1], as_str(p.get("displayName")), bool(as_bool(p.get("secret"))), isinstance(p.get("keyVault"), dict),
                as_str(p.get("value")) or None, self.origin(res, f"named value '{n[1]}'"),
            ))
        elif k == "backends":
            pool = obj(p.get("pool"))
            members = tuple(as_str(m.get("id")) for m in pool.get("services") or [] if isinstance(m, dict))
            btype = "pool" if as_str(p.get("type")).lower() == "pool" or members else "single"
            parts.backends.append(Backend(n[1], as_str(p.get("url")), btype, members, as_str(p.get("resourceId"))))
        elif k == "loggers":
            parts.loggers.append(Logger(n[1], as_str(p.get("loggerType")), as_str(p.get("resourceId"))))
        elif k == "diagnostics":
            parts.diagnostics.append(diagnostic_from_props(n[1], p, None, self.origin(res, f"diagnostic '{n[1]}'"), ws))
        elif k == "apis/diagnostics":
            parts.diagnostics.append(diagnostic_from_props(n[2], p, n[1], self.origin(res, f"diagnostic '{n[2]}'"), ws))

    def _diag_setting(self, target: str, name: str, p: dict, res: Resource) -> DiagnosticSetting:
        def entries(key: str) -> tuple[LogSetting, ...]:
            items = arr(p.get(key))
            return tuple(
                LogSetting(as_str(i.get("category")) or None, as_str(i.get("categoryGroup")) or None,
                           as_bool(i.get("enabled")) is not False)
                for i in items if isinstance(i, dict)
            )

        workspace = as_str(p.get("workspaceId")) or None
        return DiagnosticSetting(
            target, name, absolute(workspace) if workspace else None, entries("logs"), entries("metrics"),
            as_str(p.get("logAnalyticsDestinationType")) or None, Origin(self.path, self._line_of_resource(res), None,
                                                                         looped(res, f"diagnostic setting '{name}'")),
        )

    def _ev(self, value: Any) -> str:
        return self.ev.string(value) if value is not None else ""


def looped(res: Resource, label: str) -> str:
    """A resource standing for every instance of a copy loop whose count the deployment decides is named so:
    "every account the copy loop 'x' creates (if any)" (a count of 0 deploys nothing; copy-resources)."""
    if not res.loop:
        return label
    return f"every {label.split(chr(39), 1)[0].strip()} the copy loop '{res.loop}' creates (if any)"


def _api_fields(p: ServiceParts, key: Key, draft: dict[str, Any]) -> dict[str, Any]:
    name = key[1]
    props = draft.get("props") or {}
    spec_paths: tuple[str, ...] = ()
    fmt = as_str(props.get("format")).lower()
    value = props.get("value")
    if isinstance(value, str) and not is_expression(value) and fmt in ("openapi", "openapi+json", "swagger-json"):
        try:
            spec_paths = tuple(o.url_template for o in operations_from_spec(value, p.origin.path or ""))
        except Exception:  # an unreadable embedded definition only costs the classification hint
            spec_paths = ()
    return dict(
        display_name=as_str(props.get("displayName")) or name,
        path=as_str(props.get("path")),
        service_url=as_str(props.get("serviceUrl")),
        api_type=as_str(props.get("type") or props.get("apiType")),
        subscription_required=as_bool(props.get("subscriptionRequired")),
        is_current=as_bool(props.get("isCurrent")) is not False and ";rev=" not in name,
        revision=as_str(props.get("apiRevision")),
        spec_paths=spec_paths,
        origin=Origin(p.origin.path, draft.get("line"), f"{p.resource_id}/apis/{name}", f"api '{name}'"),
    )


def _product_fields(p: ServiceParts, key: Key, draft: dict[str, Any]) -> dict[str, Any]:
    name = key[1]
    if draft.get("linked_only"):
        return dict(display_name=name, subscription_required=None)
    props = draft.get("props") or {}
    return dict(display_name=as_str(props.get("displayName")) or name,
                subscription_required=as_bool(props.get("subscriptionRequired")),
                origin=Origin(p.origin.path, None, f"{p.resource_id}/products/{name}", f"product '{name}'"))


ARM = Dialect(_api_fields, _product_fields)

"""ARM templates (portal exports, `bicep build` output, nested deployments) as a source.

Resources may be nested (`resources` children with short types) or flat (full types and `svc/api/policy`
names), listed or keyed by symbolic name (languageVersion 2.0). Names and scopes written as template
expressions are resolved where the template itself says enough (see `arm_expr`); the rest stays a readable
placeholder. Policies are read from their `value` with the template's line, so findings point into the
JSON file. Wrong types anywhere are gaps, never exceptions.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
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
from .apiops import diagnostic_from_props
from .arm_expr import (
    MAX_ITEMS,
    RESOURCE_GROUP,
    Evaluator,
    OpenObject,
    Text,
    Unknown,
    is_expression,
    is_unknown,
    text,
)
from .files import JsonStringLines, as_bool, as_str, declared_kinds, settings_about_audited
from .spec import operations_from_spec

APIM = "microsoft.apimanagement/service"
MAX_NESTING = 20
MAX_RESOURCES = 20000


@dataclass
class _Resource:
    type: str  # full type, lower case: microsoft.apimanagement/service/apis/policies
    names: list[str]  # one name per type segment after the namespace
    props: dict[str, Any]
    raw: dict[str, Any]
    address: str  # where in the template, for messages: resources[3].resources[1]
    scope: str | None = None  # extension resources: the resource id they attach to
    ev: Evaluator = field(default_factory=Evaluator)  # the expressions of the template that declares it
    existing: bool = False  # `existing: true`: referenced, not deployed by this template


@dataclass
class _ServiceParts:
    name: str
    resource_id: str
    location: str = ""
    origin: Origin = field(default_factory=Origin)
    global_policy: Policy | None = None
    apis: dict[tuple[str | None, str], dict[str, Any]] = field(default_factory=dict)
    operations: dict[tuple[str | None, str], list[Operation]] = field(default_factory=lambda: defaultdict(list))
    products: dict[tuple[str | None, str], dict[str, Any]] = field(default_factory=dict)
    product_apis: dict[tuple[str | None, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    workspaces: dict[str, Policy | None] = field(default_factory=dict)
    fragments: list[Fragment] = field(default_factory=list)
    named_values: list[NamedValue] = field(default_factory=list)
    backends: list[Backend] = field(default_factory=list)
    loggers: list[Logger] = field(default_factory=list)
    diagnostics: list[Any] = field(default_factory=list)
    tags: Tags = ()


class _ArmReader:
    def __init__(self, path: Path, doc: dict[str, Any]):
        self.path = str(path)
        self.doc = doc
        self.gaps: list[CollectionGap] = []
        # the template declares an APIM service itself (not only children of an existing one): it is then about
        # that service's diagnostic settings, so the DG rules judge it even where it declares none
        self.declares_service = False
        self.resources: list[_Resource] = []
        self.projects: dict[str, list[Project]] = defaultdict(list)  # account id (lower-case) → its Foundry projects
        self.lines = JsonStringLines(self.path)
        self.ev = Evaluator()  # of the resource being built
        self.references: dict[str, Any] = {}  # resource id (lower case) → what reference() returns, for the file
        self._declared: dict[tuple[int, int], list[_Resource]] = {}  # per template and scope: declared once
        self._inner: dict[tuple[int, int], Evaluator] = {}  # per nested deployment: the evaluator of its template
        self._text: str | None = None  # the file, read once when a policy's line must be found by its text
        # resources declared beyond those the file writes out (copy loop iterations, a template declared again for
        # another iteration of a nested deployment): what is written is bounded by the file's size, what loops add
        # is bounded by MAX_RESOURCES
        self._count = 0
        self._templates: set[int] = set()  # templates declared at least once
        self._capped = False

    # ------------------------------------------------------------------------------ collecting

    def gap(self, message: str, target: str = "", line: int | None = None) -> None:
        self.gaps.append(CollectionGap("unparseable", self.path, f"{target}: {message}" if target else message, line))

    def evaluator(self, template: dict[str, Any], passed: dict[str, Any] | None = None) -> Evaluator:
        return Evaluator(template.get("parameters"), template.get("variables"), passed, self.references, {})

    def collect(self, template: Any, where: str, depth: int = 0, ev: Evaluator | None = None) -> None:
        if depth > MAX_NESTING:
            self.gap("nested deployments too deep; the rest was not read", where)
            return
        if not isinstance(template, dict):
            self.gap(f"template is {type(template).__name__}, expected an object", where)
            return
        for item in self._declare_template(template, where, ev or self.evaluator(template)):
            if item.type == "microsoft.resources/deployments":
                self._nested(item, depth)
            else:
                self.resources.append(item)

    def _declare_template(self, template: dict[str, Any], where: str, ev: Evaluator) -> list[_Resource]:
        """Every resource of one template (children, copy loops and conditions applied), declared once so
        that `reference()` anywhere in the file can find what it points at before anything is built."""
        key = (id(template), id(ev))  # a module in a copy loop: one declaration per iteration
        if key in self._declared:
            return self._declared[key]
        self._declared[key] = declared = []
        again = id(template) in self._templates
        self._templates.add(id(template))
        resources = template.get("resources", [])
        if isinstance(resources, dict):  # languageVersion 2.0: symbolic names
            items = [(f"{where}resources['{k}']", v, k) for k, v in resources.items()]
        elif isinstance(resources, list):
            items = [(f"{where}resources[{i}]", v, None) for i, v in enumerate(resources)]
        else:
            self.gap(f"`resources` is {type(resources).__name__}, expected a list", where or "template")
            return declared
        for address, res, symbol in items:
            declared.extend(self._declare(res, address, ev, None, symbol, again))
        return declared

    def _declare(self, res: Any, address: str, ev: Evaluator, parent: _Resource | None,
                 symbol: str | None = None, again: bool = False) -> list[_Resource]:
        if not isinstance(res, dict):
            self.gap(f"resource is {type(res).__name__}, expected an object", address)
            return []
        out: list[_Resource] = []
        instances = _instances(res, ev)
        self._count += max(len(instances) - (0 if again else 1), 0)
        if self._count > MAX_RESOURCES:  # copy loops inside copy loops: bounded, and said so
            if not self._capped:
                self._capped = True
                self.gap(f"copy loops add more than {MAX_RESOURCES} resources to those the template writes out; "
                         "the rest was not read", address)
            return out
        for i, instance in enumerate(instances):
            if instance.value(res.get("condition", True)) is False:  # conditional-resource-deployment
                continue
            # a copied symbolic resource is referred to as 'name[i]' (languageVersion 2.0)
            name = f"{symbol}[{i}]" if symbol and "copy" in res and len(instances) > 1 else symbol
            item = self._one_resource(res, address, instance, parent, name)
            if item is None:
                return out
            out.append(item)
            children = res.get("resources")
            if isinstance(children, list):
                for j, child in enumerate(children):
                    out.extend(self._declare(child, f"{address}.resources[{j}]", instance, item, None, again or i > 0))
            elif children is not None:
                self.gap("`resources` of a resource must be a list", address)
        return out

    def _one_resource(self, res: dict[str, Any], address: str, ev: Evaluator, parent: _Resource | None,
                      symbol: str | None) -> _Resource | None:
        rtype = ev.string(res.get("type"))
        name = ev.string(res.get("name"))
        if not rtype or not name:
            self.gap("resource without type or name", address)
            return None
        props = ev.value(res.get("properties")) if is_expression(res.get("properties")) else res.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            self.gap(f"`properties` is {type(props).__name__}, expected an object", address)
            props = {}
        if parent is not None and "/" not in rtype.split("/", 1)[0] and not rtype.lower().startswith("microsoft."):
            full_type = f"{parent.type}/{rtype}"
            names = parent.names + _split_name(name)
        else:
            full_type = rtype
            names = _split_name(name)
        full_type = full_type.lower()
        scope = ev.string(res["scope"]) if isinstance(res.get("scope"), str) else None
        item = _Resource(full_type, names, props, res, address, scope, ev, existing=res.get("existing") is True)
        provider = self._provider(item)
        if provider is not None:
            self.references[self.resource_id(item).lower()] = provider
            if symbol:
                ev.symbols[symbol] = provider
        return item

    def _provider(self, item: _Resource) -> Callable[[bool], Any] | None:
        """What `reference()` of this resource returns, where the template says enough to know it."""
        if item.type == "microsoft.resources/deployments":
            def outputs(full: bool, item: _Resource = item) -> Any:
                template = item.props.get("template")
                if not isinstance(template, dict):
                    return None
                inner = self._inner_ev(item)
                self._declare_template(template, f"{item.address}.properties.template.", inner)
                raw = template.get("outputs") if isinstance(template.get("outputs"), dict) else {}
                values = {k: {"type": o.get("type"), "value": inner.value(o.get("value"))}
                          for k, o in raw.items() if isinstance(o, dict)}
                props = OpenObject(f"reference({item.names[-1]})", {"outputs": values})
                return OpenObject(f"reference({item.names[-1]})", {"properties": props}) if full else props
            return outputs
        if item.type == "microsoft.cognitiveservices/accounts" and not item.existing:
            def account(full: bool, item: _Resource = item) -> Any:
                props = _account_properties(item)
                if not full:
                    return props
                return OpenObject(f"reference({item.names[0]})", {
                    "properties": props, "id": self.resource_id(item), "name": item.names[0],
                    "kind": item.ev.value(item.raw.get("kind")), "location": item.ev.value(item.raw.get("location"))})
            return account
        return None

    def _inner_ev(self, item: _Resource) -> Evaluator:
        """Nested templates: scope `inner` has its own parameters (given by the deployment) and variables;
        scope `outer` (the default) reads the parent's. linked-templates#expression-evaluation-scope-in-nested-templates
        """
        key = (id(item.raw), id(item.ev))
        cached = self._inner.get(key)
        if cached is not None:
            return cached
        template = item.props.get("template") if isinstance(item.props.get("template"), dict) else {}
        options = item.props.get("expressionEvaluationOptions")
        scope = options.get("scope") if isinstance(options, dict) else None
        if isinstance(scope, str) and scope.lower() == "inner":
            given = item.props.get("parameters")
            passed: dict[str, Any] = {}
            if isinstance(given, dict):
                for k, v in given.items():
                    if isinstance(v, dict) and "value" in v:
                        passed[k] = (v["value"], item.ev)
                    elif isinstance(v, dict) and "reference" in v:  # a Key Vault secret: never read
                        passed[k] = (f"[listSecret('{k}')]", item.ev)
                    elif is_expression(v):  # Bicep writes `[if(c, createObject('value', a), createObject(...))]`
                        passed[k] = (f"[{v[1:-1]}.value]", item.ev)
            ev = self.evaluator(template, passed)
        else:
            ev = item.ev
        self._inner[key] = ev
        return ev

    def _nested(self, item: _Resource, depth: int) -> None:
        template = item.props.get("template")
        if template is not None:
            inner = self._inner_ev(item) if isinstance(template, dict) else item.ev
            self.collect(template, f"{item.address}.properties.template.", depth + 1, inner)
        elif item.props.get("templateLink"):
            self.gap("linked template (templateLink) not audited; pass the linked file too", item.address)

    # ------------------------------------------------------------------------------ lines

    def line_of(self, value: str) -> int | None:
        """Line in the template file where this string value is written (first occurrence)."""
        return self.lines.line_of(value)

    # ------------------------------------------------------------------------------ policies

    def policy(self, res: _Resource, scope: str, label: str) -> Policy | None:
        ev = res.ev
        fmt = ev.string(res.props.get("format")).lower() or "xml"
        value = res.props.get("value", res.props.get("policyContent"))
        rid = self.resource_id(res)
        if fmt.endswith("-link"):
            self.gaps.append(CollectionGap(
                "unparseable", self.path, f"{label}: policy is a link ({fmt}) to {ev.string(value)}; the linked "
                "policy was not audited (export it inline, e.g. with format rawxml)", self._line_of_resource(res),
            ))
            return None
        if not isinstance(value, str):
            self.gap(f"policy value is {type(value).__name__}, expected a string", label, self._line_of_resource(res))
            return None
        line = None
        if is_expression(value):
            evaluated = ev.value(value)
            resolved = evaluated if isinstance(evaluated, str) else str(evaluated) if is_unknown(evaluated) else ""
            if isinstance(evaluated, Unknown) or not resolved.lstrip().startswith("<"):
                what = f"comes from {evaluated}, which only the deployment knows" if isinstance(evaluated, Unknown) \
                    else "is not policy XML once evaluated"
                self.gap(f"policy text {what}; not audited", label, self._line_of_resource(res))
                return None
            # text built by replace()/format() (unknown parts or not): point at the literal it came from
            parts = evaluated.parts if isinstance(evaluated, Text) else (resolved,)
            longest = max((p for p in parts if isinstance(p, str)), key=len, default="")
            line = self.line_of(resolved) or self._line_of_fragment(longest)
            value = resolved
        line = line or self.line_of(value)
        return read_policy(value, scope=scope, path=self.path, resource_id=rid, label=label, fmt=fmt,
                           embedded_at=line or self._line_of_resource(res) or 1)

    def _line_of_fragment(self, fragment: str) -> int | None:
        """Line of the JSON string that holds this text (a policy assembled by replace() or format())."""
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

    def _line_of_resource(self, res: _Resource) -> int | None:
        name = res.raw.get("name")
        return self.line_of(name) if isinstance(name, str) else None

    # ------------------------------------------------------------------------------ ids

    def resource_id(self, res: _Resource) -> str:
        segments = res.type.split("/")
        namespace, types = segments[0], segments[1:]
        pairs = "/".join(f"{t}/{n}" for t, n in zip(types, res.names, strict=False))
        return f"{RESOURCE_GROUP}/providers/{_canonical(namespace)}/{pairs}"

    def origin(self, res: _Resource, label: str) -> Origin:
        return Origin(self.path, self._line_of_resource(res), self.resource_id(res), label)

    # ------------------------------------------------------------------------------ building

    def build(self) -> Estate:
        services: dict[str, _ServiceParts] = {}
        accounts: dict[str, dict[str, Any]] = {}
        deployments: dict[str, list[Deployment]] = defaultdict(list)
        settings: list[DiagnosticSetting] = []
        assignments: list[RoleAssignment] = []
        definitions: list[RoleDefinition] = []

        def svc(res: _Resource) -> _ServiceParts:
            name = res.names[0]
            if name not in services:
                rid = f"{RESOURCE_GROUP}/providers/Microsoft.ApiManagement/service/{name}"
                services[name] = _ServiceParts(name, rid, origin=Origin(self.path, None, rid, f"service '{name}'"))
            return services[name]

        for res in self.resources:
            self.ev = res.ev
            wanted = len(res.type.split("/")) - 1  # one name per type segment after the namespace
            if "/providers/" not in res.type and len(res.names) < wanted:
                self.gap(f"{res.type} not read: its name has {len(res.names)} segment(s) "
                         f"({'/'.join(res.names)}), the type needs {wanted}", res.address, self._line_of_resource(res))
                continue
            try:
                self._one(res, svc, accounts, deployments, settings, assignments, definitions)
            except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
                self.gap(f"{res.type} not read: {type(exc).__name__}: {exc}", res.address)
        carries = declared_kinds(bool(services), any(s.loggers or s.diagnostics for s in services.values()),
                                 bool(accounts), settings_about_audited(settings) or self.declares_service,
                                 bool(assignments))
        account_list = tuple(
            AiAccount(**{**a, "deployments": tuple(deployments.get(a["resource_id"].lower(), ())),
                         "projects": tuple(self.projects.get(a["resource_id"].lower(), ()))})
            for a in accounts.values()
        )
        return Estate(
            sources=(SourceInfo("arm", self.path, carries),),
            services=tuple(_service(p) for p in services.values()),
            accounts=account_list,
            diagnostic_settings=tuple(settings),
            role_assignments=tuple(assignments),
            role_definitions=tuple(definitions),
            gaps=tuple(self.gaps),
            root=str(Path(self.path).parent),
        )

    def _one(self, res, svc, accounts, deployments, settings, assignments, definitions) -> None:
        t, n = res.type, res.names
        # property values as the deployment would see them, objects kept objects (policy values are read apart)
        p = res.ev.resolve({k: v for k, v in res.props.items() if not (k == "value" and "/policies" in t)})
        if "/providers/microsoft.insights/diagnosticsettings" in t or t.endswith("providers/diagnosticsettings"):
            base_type = t.split("/providers/")[0]
            depth = len(base_type.split("/")) - 1
            base = _Resource(base_type, n[:depth], {}, {}, res.address)
            settings.append(self._diag_setting(self.resource_id(base), n[-1], p, res))
            return
        if t == "microsoft.insights/diagnosticsettings":
            target = res.scope or ""
            if not target:
                self.gap("diagnostic setting without a scope: the resource it belongs to is unknown", res.address)
                return
            settings.append(self._diag_setting(_absolute(target), n[-1], p, res))
            return
        if t.endswith("microsoft.authorization/roleassignments") or t.endswith("providers/roleassignments"):
            scope = res.scope or (self.resource_id(_Resource(t.split("/providers/")[0], n[:-2], {}, {}, ""))
                                  if "/providers/" in t else RESOURCE_GROUP)
            assignments.append(RoleAssignment(
                _absolute(scope), as_str(p.get("roleDefinitionId")), as_str(p.get("principalId")),
                as_str(p.get("principalType")), Origin(self.path, self._line_of_resource(res), None, "role assignment"),
            ))
            return
        if t == "microsoft.authorization/roledefinitions":
            perms = p.get("permissions") if isinstance(p.get("permissions"), list) else []

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
            acls = p.get("networkAcls") if isinstance(p.get("networkAcls"), dict) else {}
            accounts[rid.lower()] = dict(
                resource_id=rid, name=n[0], kind=kind, location=self._ev(res.raw.get("location")),
                endpoint=as_str(p.get("endpoint")) or str(_account_properties(res)["endpoint"]),
                disable_local_auth=as_bool(p.get("disableLocalAuth")),
                public_network_access=as_str(p.get("publicNetworkAccess")) or None,
                network_default_action=as_str(acls.get("defaultAction")) or None,
                origin=self.origin(res, f"account '{n[0]}'"),
                tags=tags_from(res.ev.resolve(res.raw.get("tags"))),
            )
            return
        if t == "microsoft.cognitiveservices/accounts/projects":
            # a Foundry project: grouped inside its AIServices account, billed as the account
            parent = self.resource_id(_Resource("microsoft.cognitiveservices/accounts", n[:1], {}, {}, "")).lower()
            self.projects[parent].append(Project(n[-1], self.resource_id(res), tags_from(res.ev.resolve(
                res.raw.get("tags"))), self.origin(res, f"project '{n[-1]}'")))
            return
        if t == "microsoft.cognitiveservices/accounts/deployments":
            parent = self.resource_id(_Resource("microsoft.cognitiveservices/accounts", n[:1], {}, {}, "")).lower()
            model = p.get("model") if isinstance(p.get("model"), dict) else {}
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
        parts = svc(res)
        ws: str | None = None
        if kinds[:1] == ["workspaces"] and len(n) >= 2:
            ws = n[1]
            if len(kinds) == 1:
                parts.workspaces.setdefault(ws, None)
                return
            kinds, n = kinds[1:], [n[0], *n[2:]]
        self._apim(parts, kinds, n, p, res, ws)

    def _apim(self, parts: _ServiceParts, kinds: list[str], n: list[str], p: dict, res: _Resource, ws: str | None):
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
            parts.apis.setdefault((ws, n[1]), {"name": n[1]}).setdefault("op_policies", {})[n[2]] = policy
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
            pool = p.get("pool") if isinstance(p.get("pool"), dict) else {}
            members = tuple(as_str(m.get("id")) for m in pool.get("services") or [] if isinstance(m, dict))
            btype = "pool" if as_str(p.get("type")).lower() == "pool" or members else "single"
            parts.backends.append(Backend(n[1], as_str(p.get("url")), btype, members, as_str(p.get("resourceId"))))
        elif k == "loggers":
            parts.loggers.append(Logger(n[1], as_str(p.get("loggerType")), as_str(p.get("resourceId"))))
        elif k == "diagnostics":
            parts.diagnostics.append(diagnostic_from_props(n[1], p, None, self.origin(res, f"diagnostic '{n[1]}'")))
        elif k == "apis/diagnostics":
            parts.diagnostics.append(diagnostic_from_props(n[2], p, n[1], self.origin(res, f"diagnostic '{n[2]}'")))

    def _diag_setting(self, target: str, name: str, p: dict, res: _Resource) -> DiagnosticSetting:
        def entries(key: str) -> tuple[LogSetting, ...]:
            items = p.get(key) if isinstance(p.get(key), list) else []
            return tuple(
                LogSetting(as_str(i.get("category")) or None, as_str(i.get("categoryGroup")) or None,
                           as_bool(i.get("enabled")) is not False)
                for i in items if isinstance(i, dict)
            )

        workspace = as_str(p.get("workspaceId")) or None
        return DiagnosticSetting(
            target, name, _absolute(workspace) if workspace else None, entries("logs"), entries("metrics"),
            as_str(p.get("logAnalyticsDestinationType")) or None, Origin(self.path, self._line_of_resource(res), None,
                                                                         f"diagnostic setting '{name}'"),
        )

    def _ev(self, value: Any) -> str:
        return self.ev.string(value) if value is not None else ""


def _instances(res: dict[str, Any], ev: Evaluator) -> list[Evaluator]:
    """One evaluator per copy of a resource loop (copy-resources); the loop unexpanded when its count is unknown."""
    loop = res.get("copy")
    if not isinstance(loop, dict) or not isinstance(loop.get("name"), str):
        return [ev]
    count = ev.value(loop.get("count"))
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_ITEMS:
        return [ev]
    return [ev.with_copy(loop["name"], i) for i in range(count)]


LLM_ACCOUNT_KINDS = ("openai", "aiservices")


def _account_properties(item: _Resource) -> OpenObject:
    """What `reference()` of a Cognitive Services account gives, from what its declaration says.

    An account with a custom subdomain answers at `https://<subdomain>.openai.azure.com/` (kind OpenAI) or
    `https://<subdomain>.cognitiveservices.azure.com/` (other kinds, AIServices included, which also serve the
    OpenAI endpoint); without one, at the regional `https://<region>.api.cognitive.microsoft.com/`.
    https://learn.microsoft.com/azure/ai-services/cognitive-services-custom-subdomains
    """
    ev = item.ev
    kind = ev.value(item.raw.get("kind"))
    sub = ev.value(item.props.get("customSubDomainName"))
    label = f"reference({item.names[0]})"
    if sub is None or sub == "":
        location = ev.value(item.raw.get("location"))
        endpoint = text("https://", location, ".api.cognitive.microsoft.com/")
        return OpenObject(label, {"endpoint": endpoint})
    openai = text("https://", sub, ".openai.azure.com/")
    if isinstance(kind, str) and kind.lower() == "openai":
        endpoint = openai
    else:
        endpoint = text("https://", sub, ".cognitiveservices.azure.com/")
    endpoints = OpenObject(f"{label}.endpoints", {"OpenAI Language Model Instance API": openai} if isinstance(
        kind, str) and kind.lower() in LLM_ACCOUNT_KINDS else {})
    return OpenObject(label, {"endpoint": endpoint, "endpoints": endpoints, "customSubDomainName": sub})


def _split_name(name: str) -> list[str]:
    return [s for s in name.split("/") if s] or [name]


def _canonical(namespace: str) -> str:
    return {"microsoft.apimanagement": "Microsoft.ApiManagement", "microsoft.cognitiveservices":
            "Microsoft.CognitiveServices", "microsoft.insights": "Microsoft.Insights",
            "microsoft.operationalinsights": "Microsoft.OperationalInsights"}.get(namespace.lower(), namespace)


def _absolute(resource_id: str) -> str:
    """Scopes written as `Microsoft.X/y/name` (relative to the deployment's resource group) made absolute."""
    if resource_id.startswith("/") or is_expression(resource_id):
        return resource_id
    segments = resource_id.split("/")
    if len(segments) >= 3 and "." in segments[0]:
        namespace, rest = segments[0], segments[1:]
        types, names = rest[: len(rest) // 2], rest[len(rest) // 2 :]
        return f"{RESOURCE_GROUP}/providers/{namespace}/" + "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=False))
    return resource_id


def _service(p: _ServiceParts) -> ApimService:
    apis = []
    for (ws, name), a in p.apis.items():
        props = a.get("props") or {}
        ops = list(p.operations.get((ws, name), []))
        op_policies = a.get("op_policies", {})
        known = {o.name for o in ops}
        ops += [Operation(o) for o in op_policies if o not in known]
        ops = [Operation(o.name, o.method, o.url_template, o.display_name, op_policies.get(o.name)) for o in ops]
        spec_paths: tuple[str, ...] = ()
        fmt = as_str(props.get("format")).lower()
        value = props.get("value")
        if isinstance(value, str) and not is_expression(value) and fmt in ("openapi", "openapi+json", "swagger-json"):
            try:
                spec_paths = tuple(o.url_template for o in operations_from_spec(value, p.origin.path or ""))
            except Exception:  # an unreadable embedded definition only costs the classification hint
                spec_paths = ()
        revision = as_str(props.get("apiRevision"))
        apis.append(Api(
            name=name,
            display_name=as_str(props.get("displayName")) or name,
            path=as_str(props.get("path")),
            service_url=as_str(props.get("serviceUrl")),
            api_type=as_str(props.get("type") or props.get("apiType")),
            subscription_required=as_bool(props.get("subscriptionRequired")),
            is_current=as_bool(props.get("isCurrent")) is not False and ";rev=" not in name,
            revision=revision,
            workspace=ws,
            policy=a.get("policy"),
            operations=tuple(ops),
            spec_paths=spec_paths,
            origin=Origin(p.origin.path, a.get("line"), f"{p.resource_id}/apis/{name}", f"api '{name}'"),
        ))
    products = []
    for (ws, name), prod in p.products.items():
        props = prod.get("props") or {}
        products.append(Product(
            name, as_str(props.get("displayName")) or name, as_bool(props.get("subscriptionRequired")),
            tuple(dict.fromkeys(p.product_apis.get((ws, name), []))), ws, prod.get("policy"),
            Origin(p.origin.path, None, f"{p.resource_id}/products/{name}", f"product '{name}'"),
        ))
    for (ws, name), api_names in p.product_apis.items():
        if (ws, name) not in p.products:
            products.append(Product(name, name, None, tuple(dict.fromkeys(api_names)), ws))
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


def _share_strings(doc: Any) -> None:
    """One copy of each string value in the template. json.load shares keys but not values, and a template
    repeats its values resource after resource (types, API versions, the same policy text on every operation):
    the template stays in memory while the estate is built, so each repeat cost memory until the end."""
    memo: dict[str, str] = {}
    stack = [doc]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, str):
                shared = memo.setdefault(value, value)
                if shared is not value:
                    node[key] = shared
            elif isinstance(value, (dict, list)):
                stack.append(value)


def read_arm(path: str | Path, doc: dict[str, Any]) -> Estate:
    _share_strings(doc)
    reader = _ArmReader(Path(path), doc)
    reader.collect(doc, "")
    return reader.build()

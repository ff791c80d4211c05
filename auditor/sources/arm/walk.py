"""Walking an ARM template: every resource it declares, with nested deployments, copy loops, conditions and
children applied, each with the evaluator of its own template, so that `reference()` anywhere in the file finds
what it points at before anything is built. Bounded: nesting depth and what copy loops add are capped, and the
cap is a gap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...estate import CollectionGap
from ..files import JsonStringLines
from ..json_lines import JsonPath, JsonPathLines
from ..json_shape import obj
from .bounds import Budget
from .evaluator import Evaluator
from .resources import Resource, account_properties, canonical, instances, split_name
from .values import RESOURCE_GROUP, OpenObject, is_expression

MAX_NESTING = 20
MAX_RESOURCES = 20000


class TemplateWalker:
    def __init__(self, path: Path, doc: dict[str, Any]):
        self.path = str(path)
        self.doc = doc
        self.gaps: list[CollectionGap] = []
        # the template declares an APIM service itself (not only children of an existing one): it is then about
        # that service's diagnostic settings, so the DG rules judge it even where it declares none
        self.declares_service = False
        self.resources: list[Resource] = []
        self.lines = JsonStringLines(self.path)  # by text: only for a policy assembled from a variable's literal
        # by JSON path: the line of each resource's own name and policy text (build.py)
        self.paths = JsonPathLines(self.path, frozenset({"name", "value", "policyContent"}))
        self.budget = Budget()  # what this file's expressions may build, all templates in it together
        self.ev = Evaluator(budget=self.budget)  # of the resource being built
        self.references: dict[str, Any] = {}  # resource id (lower case) → what reference() returns, for the file
        self._declared: dict[tuple[int, int], list[Resource]] = {}  # per template and scope: declared once
        self._inner: dict[tuple[int, int], Evaluator] = {}  # per nested deployment: the evaluator of its template
        self._text: str | None = None  # the file, read once when a policy's line must be found by its text
        # resources declared beyond those the file writes out (copy loop iterations, a template declared again for
        # another iteration of a nested deployment): what is written is bounded by the file's size, what loops add
        # is bounded by MAX_RESOURCES
        self._count = 0
        self._templates: set[int] = set()  # templates declared at least once
        self._capped = False

    def gap(self, message: str, target: str = "", line: int | None = None) -> None:
        self.gaps.append(CollectionGap("unparseable", self.path, f"{target}: {message}" if target else message, line))

    def evaluator(self, template: dict[str, Any], passed: dict[str, Any] | None = None) -> Evaluator:
        return Evaluator(template.get("parameters"), template.get("variables"), passed, self.references, {},
                         self.budget)

    def bound_gaps(self) -> list[CollectionGap]:
        """An AU002 for each expression that went past a bound (bounds.py), naming it."""
        out = [CollectionGap("unparseable", self.path, f"expression not evaluated, {what}: "
                             f"{expression[:120]}{'…' if len(expression) > 120 else ''}")
               for what, expression in self.budget.breaches]
        if self.budget.more:
            out.append(CollectionGap("unparseable", self.path,
                                     f"{self.budget.more} more expression(s) not evaluated past a bound"))
        return out

    def collect(self, template: Any, where: str, depth: int = 0, ev: Evaluator | None = None,
                at: JsonPath | None = ()) -> None:
        """Declare the resources of `template`, written at JSON path `at` of the file (None: not written there as
        such, e.g. a template an expression builds)."""
        if depth > MAX_NESTING:
            self.gap("nested deployments too deep; the rest was not read", where)
            return
        if not isinstance(template, dict):
            self.gap(f"template is {type(template).__name__}, expected an object", where)
            return
        for item in self._declare_template(template, where, ev or self.evaluator(template), at):
            if item.type == "microsoft.resources/deployments":
                self._nested(item, depth)
            else:
                self.resources.append(item)

    def _declare_template(self, template: dict[str, Any], where: str, ev: Evaluator,
                          at: JsonPath | None) -> list[Resource]:
        """Every resource of one template (children, copy loops and conditions applied), declared once so
        that `reference()` anywhere in the file can find what it points at before anything is built."""
        key = (id(template), id(ev))  # a module in a copy loop: one declaration per iteration
        if key in self._declared:
            return self._declared[key]
        declared: list[Resource] = []
        self._declared[key] = declared
        again = id(template) in self._templates
        self._templates.add(id(template))
        resources = template.get("resources", [])
        if isinstance(resources, dict):  # languageVersion 2.0: symbolic names
            items = [(f"{where}resources['{k}']", v, k, _at(at, "resources", k)) for k, v in resources.items()]
        elif isinstance(resources, list):
            items = [(f"{where}resources[{i}]", v, None, _at(at, "resources", i)) for i, v in enumerate(resources)]
        else:
            self.gap(f"`resources` is {type(resources).__name__}, expected a list", where or "template")
            return declared
        for address, res, symbol, where_at in items:
            declared.extend(self._declare(res, address, ev, None, symbol, again, where_at))
        return declared

    def _declare(self, res: Any, address: str, ev: Evaluator, parent: Resource | None,
                 symbol: str | None = None, again: bool = False, at: JsonPath | None = None) -> list[Resource]:
        if not isinstance(res, dict):
            self.gap(f"resource is {type(res).__name__}, expected an object", address)
            return []
        out: list[Resource] = []
        copies = instances(res, ev)
        self._count += max(len(copies) - (0 if again else 1), 0)
        if self._count > MAX_RESOURCES:  # copy loops inside copy loops: bounded, and said so
            if not self._capped:
                self._capped = True
                self.gap(f"copy loops add more than {MAX_RESOURCES} resources to those the template writes out; "
                         "the rest was not read", address)
            return out
        for i, instance in enumerate(copies):
            if instance.value(res.get("condition", True)) is False:  # conditional-resource-deployment
                continue
            # a copied symbolic resource is referred to as 'name[i]' (languageVersion 2.0)
            name = f"{symbol}[{i}]" if symbol and "copy" in res and len(copies) > 1 else symbol
            item = self._one_resource(res, address, instance, parent, name, at)
            if item is None:
                return out
            out.append(item)
            children = res.get("resources")
            if isinstance(children, list):
                for j, child in enumerate(children):
                    out.extend(self._declare(child, f"{address}.resources[{j}]", instance, item, None, again or i > 0,
                                             _at(at, "resources", j)))
            elif children is not None:
                self.gap("`resources` of a resource must be a list", address)
        return out

    def _one_resource(self, res: dict[str, Any], address: str, ev: Evaluator, parent: Resource | None,
                      symbol: str | None, at: JsonPath | None = None) -> Resource | None:
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
            names = parent.names + split_name(name)
        else:
            full_type = rtype
            names = split_name(name)
        full_type = full_type.lower()
        scope = ev.string(res["scope"]) if isinstance(res.get("scope"), str) else None
        item = Resource(full_type, names, props, res, address, scope, ev, existing=res.get("existing") is True,
                        loop=ev.loop, path=at)
        provider = self._provider(item)
        if provider is not None:
            self.references[self.resource_id(item).lower()] = provider
            if symbol:
                ev.symbols[symbol] = provider
        return item

    def _provider(self, item: Resource) -> Callable[[bool], Any] | None:
        """What `reference()` of this resource returns, where the template says enough to know it."""
        if item.type == "microsoft.resources/deployments":
            def outputs(full: bool, item: Resource = item) -> Any:
                template = item.props.get("template")
                if not isinstance(template, dict):
                    return None
                inner = self._inner_ev(item)
                self._declare_template(template, f"{item.address}.properties.template.", inner,
                                       _at(item.path, "properties", "template"))
                raw = obj(template.get("outputs"))
                values = {k: {"type": o.get("type"), "value": inner.value(o.get("value"))}
                          for k, o in raw.items() if isinstance(o, dict)}
                props = OpenObject(f"reference({item.names[-1]})", {"outputs": values})
                return OpenObject(f"reference({item.names[-1]})", {"properties": props}) if full else props
            return outputs
        if item.type == "microsoft.cognitiveservices/accounts" and not item.existing:
            def account(full: bool, item: Resource = item) -> Any:
                props = account_properties(item)
                if not full:
                    return props
                return OpenObject(f"reference({item.names[0]})", {
                    "properties": props, "id": self.resource_id(item), "name": item.names[0],
                    "kind": item.ev.value(item.raw.get("kind")), "location": item.ev.value(item.raw.get("location"))})
            return account
        return None

    def _inner_ev(self, item: Resource) -> Evaluator:
        """Nested templates: scope `inner` has its own parameters (given by the deployment) and variables;
        scope `outer` (the default) reads the parent's. linked-templates#expression-evaluation-scope-in-nested-templates
        """
        key = (id(item.raw), id(item.ev))
        cached = self._inner.get(key)
        if cached is not None:
            return cached
        template = obj(item.props.get("template"))
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

    def _nested(self, item: Resource, depth: int) -> None:
        template = item.props.get("template")
        if template is not None:
            inner = self._inner_ev(item) if isinstance(template, dict) else item.ev
            self.collect(template, f"{item.address}.properties.template.", depth + 1, inner,
                         _at(item.path, "properties", "template"))
        elif item.props.get("templateLink"):
            self.gap("linked template (templateLink) not audited; pass the linked file too", item.address)

    def resource_id(self, res: Resource) -> str:
        segments = res.type.split("/")
        namespace, types = segments[0], segments[1:]
        pairs = "/".join(f"{t}/{n}" for t, n in zip(types, res.names, strict=False))
        return f"{RESOURCE_GROUP}/providers/{canonical(namespace)}/{pairs}"


def _at(path: JsonPath | None, *more: str | int) -> JsonPath | None:
    """A path inside the file one step further (None stays None: not written in the file as such)."""
    return None if path is None else (*path, *more)

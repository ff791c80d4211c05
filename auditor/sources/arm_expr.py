"""ARM's template-expression language, evaluated as far as the template itself says, never to deploy.

`[format('https://{0}/openai', reference(variables('aoai')).endpoint)]` is parsed into a small tree and
evaluated. What cannot be known before a deployment (a parameter without a default, `uniqueString(...)`,
`utcNow()`, the output of a resource nobody declared) becomes a typed `Unknown` carrying a readable label,
and the known text around it is kept: a string with unknown parts is a `Text`, rendered as
`https://{aoaiName}.openai.azure.com/openai`. `list*()` results are secrets: a redacted `Unknown`. Objects
stay objects and arrays stay arrays; a placeholder is only a string where a string was meant.

Semantics follow Microsoft's template function reference (each group cited beside its functions):
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .arm_functions import FUNCTIONS
from .arm_syntax import Call, Lit, Prop, Unresolvable, parse
from .arm_values import (
    MAX_ITEMS,
    RESOURCE_GROUP,
    RESOURCE_GROUP_T,
    SUBSCRIPTION,
    SUBSCRIPTION_T,
    NeedsKnown,
    OpenObject,
    PropertyMissing,
    Text,
    Unknown,
    absolute_id,
    as_text,
    get_property,
    has_unknown,
    is_expression,
    is_unknown,
    label_of,
    literal,
    render,
    scalar,
    text,
    truth,
)

__all__ = ["RESOURCE_GROUP", "SUBSCRIPTION", "Evaluator", "OpenObject", "Text", "Unknown", "Unresolvable",
           "is_expression", "is_unknown", "literal", "render", "text"]
MAX_DEPTH = 48  # nested evaluation (variables of variables, outputs of modules); deeper is Unknown

# ---------------------------------------------------------------------------------------- evaluator


class _Lambda:
    def __init__(self, names: list[str], body: Any, ev: Evaluator):
        self.names, self.body, self.ev = names, body, ev

    def __call__(self, *values: Any) -> Any:
        return self.ev._with_locals(dict(zip(self.names, values, strict=False))).eval(self.body)


class Evaluator:
    """Evaluates the expressions of one template (one scope of a nested deployment).

    `parameters`: the template's parameter declarations; `passed`: values given to it by an outer deployment
    as `{name: (raw value, evaluator of the outer template)}`, evaluated on first use. `references`: resource
    id (lower case, placeholders rendered) → a function giving what `reference()` returns for it; `symbols`:
    the same for symbolic names (languageVersion 2.0).
    """

    def __init__(
        self,
        parameters: dict[str, Any] | None = None,
        variables: dict[str, Any] | None = None,
        passed: dict[str, tuple[Any, Evaluator]] | None = None,
        references: dict[str, Callable[[bool], Any]] | None = None,
        symbols: dict[str, Callable[[bool], Any]] | None = None,
    ):
        self.parameters = parameters if isinstance(parameters, dict) else {}
        self.variables = variables if isinstance(variables, dict) else {}
        self.passed = passed or {}
        self.references = references if references is not None else {}
        self.symbols = symbols if symbols is not None else {}
        self.copy: dict[str, int] = {}
        self.locals: dict[str, Any] = {}
        self._memo: dict[tuple[str, str], Any] = {}
        self._busy: set[tuple[str, str]] = set()
        self._depth = [0]

    def _clone(self) -> Evaluator:
        other = object.__new__(Evaluator)
        other.__dict__.update(self.__dict__)
        return other

    def with_copy(self, name: str, index: int) -> Evaluator:
        """The evaluator inside one iteration of a copy loop (`copyIndex()` / `copyIndex(name)`)."""
        other = self._clone()
        other.copy = {**self.copy, name.lower(): index, "": index}
        return other

    def _with_locals(self, values: dict[str, Any]) -> Evaluator:
        other = self._clone()
        other.locals = {**self.locals, **values}
        return other

    # ------------------------------------------------------------------------------------ public

    def value(self, raw: Any) -> Any:
        """A template value (string, object, array...) evaluated deeply; unknown parts typed."""
        if isinstance(raw, str):
            if is_expression(raw):
                try:
                    return self.evaluate(raw)
                except (Unresolvable, RecursionError):
                    return Unknown(label_of(raw[1:-1]) or "expression")
            return literal(raw)
        if isinstance(raw, dict):
            out = {k: self.value(v) for k, v in raw.items() if k != "copy" or not isinstance(v, list)}
            if isinstance(raw.get("copy"), list):  # property iteration: copy-properties
                out.update(self._copy_list(raw["copy"]))
            return out
        if isinstance(raw, list):
            return [self.value(v) for v in raw]
        return raw

    def resolve(self, raw: Any) -> Any:
        """`value()` as plain data: unknown parts become readable placeholders in strings."""
        return render(self.value(raw))

    def string(self, raw: Any) -> str:
        """The value as a string, placeholders where unknown."""
        if raw is None:
            return ""
        value = scalar(self.value(raw))
        if isinstance(value, str):
            return value
        return str(value) if is_unknown(value) else as_text(value)

    def evaluate(self, expression: str) -> Any:
        value = self.eval(parse(expression))
        # `reference(x).some.path` of a resource nobody declared: an object with nothing known is an unknown value
        return Unknown(value.label) if isinstance(value, OpenObject) and not value else value

    # ------------------------------------------------------------------------------------ tree

    def eval(self, node: Any) -> Any:
        if isinstance(node, Lit):
            return node.value
        self._depth[0] += 1
        try:
            if self._depth[0] > MAX_DEPTH:
                return Unknown(label_of(node.src))
            if isinstance(node, Prop):
                target = self.eval(node.target)
                key = node.key if isinstance(node.key, str) else self.eval(node.key)
                try:
                    return get_property(target, key, node.src)
                except PropertyMissing:  # the deployment would fail; say which value is missing
                    return Unknown(label_of(node.src))
            return self._call(node)
        finally:
            self._depth[0] -= 1

    def _call(self, node: Call) -> Any:
        name, args = node.name, node.args
        special = _LAZY.get(name)
        if special is not None:
            try:
                return special(self, node)
            except (NeedsKnown, TypeError, ValueError, IndexError, KeyError, AttributeError, PropertyMissing):
                return Unknown(label_of(node.src))  # wrong arguments: the deployment would fail; never our crash
        if name.startswith("list"):  # listKeys, listSecrets, listConnectionStrings...: secrets, never read
            return Unknown(f"{node.src.split('(', 1)[0]}({self._target_name(args[0]) if args else ''})", secret=True)
        fn = FUNCTIONS.get(name)
        values = [self.eval(a) for a in args]
        if fn is None:
            return Unknown(label_of(node.src))
        try:
            return fn(values, node)
        except NeedsKnown:
            return Unknown(label_of(node.src))
        except (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError, AttributeError, OverflowError):
            return Unknown(label_of(node.src))  # the deployment itself would fail here; never our crash

    # ------------------------------------------------------------------------------------ scope

    def _scoped(self, kind: str, name: str, compute: Callable[[], Any]) -> Any:
        """A parameter's or variable's value, evaluated once; one that depends on itself is an Unknown."""
        key = (kind, name.lower())
        if key in self._memo:
            return self._memo[key]
        if key in self._busy:
            return Unknown(name)
        self._busy.add(key)
        try:
            value = compute()
        finally:
            self._busy.discard(key)
        self._memo[key] = value
        return value

    def parameter(self, name: str) -> Any:
        def compute() -> Any:
            passed = next((v for k, v in self.passed.items() if k.lower() == name.lower()), None)
            spec = next((v for k, v in self.parameters.items() if k.lower() == name.lower()), None)
            if _secure(spec):
                # a securestring/secureObject parameter is a secret: neither its default nor a passed value is
                # resolved, so it never reaches policy text, a report or a snapshot
                return Unknown(f"{name} (secure)")
            if passed is not None:
                raw, outer = passed
                return outer.value(raw)
            if isinstance(spec, dict) and "defaultValue" in spec:
                return self.value(spec["defaultValue"])
            return Unknown(name)

        return self._scoped("p", name, compute)

    def variable(self, name: str) -> Any:
        def compute() -> Any:
            copies = self.variables.get("copy")
            loop = next((c for c in copies if isinstance(c, dict) and str(c.get("name", "")).lower() == name.lower()),
                        None) if isinstance(copies, list) else None
            if loop is not None:  # copy-variables: an array built from `input`
                return self._copy_list([loop]).get(loop.get("name"), Unknown(name))
            raw = next((v for k, v in self.variables.items() if k.lower() == name.lower() and k != "copy"), None)
            return Unknown(name) if raw is None and name not in self.variables else self.value(raw)

        return self._scoped("v", name, compute)

    def _copy_list(self, loops: list[Any]) -> dict[str, Any]:
        """copy: [{name, count, input}] → {name: [input evaluated with copyIndex(name) = 0..count-1]}."""
        out: dict[str, Any] = {}
        for loop in loops:
            if not isinstance(loop, dict) or not isinstance(loop.get("name"), str):
                continue
            count = self.value(loop.get("count"))
            if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_ITEMS:
                out[loop["name"]] = Unknown(loop["name"])
                continue
            out[loop["name"]] = [self.with_copy(loop["name"], i).value(loop.get("input")) for i in range(count)]
        return out

    def reference(self, target: Any, full: bool) -> Any:
        if isinstance(target, str):
            provider = self.symbols.get(target) if "/" not in target else None
            provider = provider or self.references.get(target.lower()) or self.references.get(absolute_id(target).lower())
            if provider is None and "/" not in target:  # reference('name') of a resource in the same template
                provider = next((f for k, f in self.references.items() if k.endswith("/" + target.lower())), None)
        elif isinstance(target, Text):
            provider = self.references.get(str(target).lower())
        else:
            provider = None
        name = self._name_of(target)
        if provider is not None:
            value = provider(full)
            if value is not None:
                return value
        return OpenObject(f"reference({name})")

    def _target_name(self, node: Any) -> str:
        return self._name_of(self.eval(node))

    @staticmethod
    def _name_of(value: Any) -> str:
        if isinstance(value, (Unknown, OpenObject)):
            return value.label
        shown = str(value) if isinstance(value, (str, Text)) else as_text(value)
        return label_of(shown.rstrip("/").rsplit("/", 1)[-1].strip("{}"))


# ------------------------------------------------------------------------------- lazy / scoped functions


def _lazy_if(ev: Evaluator, node: Call) -> Any:
    """if: only the chosen branch is evaluated (template-functions-logical#if)."""
    if len(node.args) != 3:
        raise Unresolvable("if() takes 3 arguments")
    cond = truth(ev.eval(node.args[0]))
    if cond is None:
        return _either(ev.eval(node.args[1]), ev.eval(node.args[2]), label_of(node.src))
    return ev.eval(node.args[1] if cond else node.args[2])


def _either(yes: Any, no: Any, label: str) -> Any:
    """The value of an `if` whose condition is unknown: what both branches agree on, objects key by key; where
    one branch is a bare unknown (`if(empty(parameters('name')), <generated>, parameters('name'))`), that
    unknown, so the placeholder names the input that decides (`{name}`)."""
    if yes == no and not has_unknown(yes):
        return yes
    if isinstance(yes, dict) and isinstance(no, dict) and not isinstance(yes, OpenObject) \
            and not isinstance(no, OpenObject) and yes.keys() == no.keys():
        return {k: _either(yes[k], no[k], f"{label}.{k}") for k in yes}
    if isinstance(yes, Unknown) and not yes.secret:
        return yes
    if isinstance(no, Unknown) and not no.secret:
        return no
    return Unknown(label)


def _lazy_and_or(is_and: bool) -> Callable[[Evaluator, Call], Any]:
    def apply(ev: Evaluator, node: Call) -> Any:
        unknown = False
        for arg in node.args:
            value = truth(ev.eval(arg))
            if value is None:
                unknown = True
            elif value is not is_and:
                return not is_and
        return Unknown(label_of(node.src)) if unknown else is_and

    return apply


def _lazy_not(ev: Evaluator, node: Call) -> Any:
    value = truth(ev.eval(node.args[0])) if node.args else None
    return Unknown(label_of(node.src)) if value is None else not value


def _param_call(ev: Evaluator, node: Call) -> Any:
    name = ev.eval(node.args[0]) if node.args else ""
    return ev.parameter(name) if isinstance(name, str) else Unknown(label_of(node.src))


def _var_call(ev: Evaluator, node: Call) -> Any:
    name = ev.eval(node.args[0]) if node.args else ""
    return ev.variable(name) if isinstance(name, str) else Unknown(label_of(node.src))


def _copy_index(ev: Evaluator, node: Call) -> Any:
    """copyIndex([loopName], [offset]) (template-functions-numeric#copyindex)."""
    args = [ev.eval(a) for a in node.args]
    loop, offset = "", 0
    for a in args:
        if isinstance(a, str):
            loop = a.lower()
        elif isinstance(a, int) and not isinstance(a, bool):
            offset = a
    if loop not in ev.copy:
        return Unknown("copyIndex")
    return ev.copy[loop] + offset


def _reference(ev: Evaluator, node: Call) -> Any:
    """reference(resourceName or id or symbolic name, [apiVersion], ['Full']) (template-functions-resource)."""
    args = [ev.eval(a) for a in node.args]
    if not args:
        raise Unresolvable("reference() without a resource")
    full = any(isinstance(a, str) and a.lower() == "full" for a in args[1:])
    return ev.reference(args[0], full)


def _lambda(ev: Evaluator, node: Call) -> Any:
    """lambda('x', ['y',] body) (template-functions-lambda)."""
    names = [ev.eval(a) for a in node.args[:-1]]
    if not node.args or not all(isinstance(n, str) for n in names):
        raise Unresolvable("lambda()")
    return _Lambda(names, node.args[-1], ev)


def _lambda_variables(ev: Evaluator, node: Call) -> Any:
    name = ev.eval(node.args[0]) if node.args else None
    if isinstance(name, str) and name in ev.locals:
        return ev.locals[name]
    return Unknown(label_of(node.src))


def _higher_order(kind: str) -> Callable[[Evaluator, Call], Any]:
    def apply(ev: Evaluator, node: Call) -> Any:
        args = [ev.eval(a) for a in node.args]
        items, fn = args[0], args[-1]
        if not isinstance(fn, _Lambda):
            raise Unresolvable(f"{kind}() needs a lambda")
        if isinstance(items, dict) and kind == "mapvalues":
            return {k: fn(v) for k, v in items.items()}
        if not isinstance(items, list):
            return Unknown(label_of(node.src))
        if kind == "map":
            return [fn(v, i) for i, v in enumerate(items)]
        if kind == "filter":
            kept = []
            for i, v in enumerate(items):
                verdict = truth(fn(v, i))
                if verdict is None:
                    return Unknown(label_of(node.src))
                if verdict:
                    kept.append(v)
            return kept
        if kind == "reduce":
            acc = args[1]
            for i, v in enumerate(items):
                acc = fn(acc, v, i)
            return acc
        if kind == "toobject":
            value_fn = args[2] if len(args) > 2 and isinstance(args[2], _Lambda) else None
            keys = [fn(v) for v in items]
            if has_unknown(keys):
                return Unknown(label_of(node.src))
            return {as_text(k): (value_fn(v) if value_fn else v) for k, v in zip(keys, items, strict=True)}
        return Unknown(label_of(node.src))

    return apply


def _scope_object(label: str, known: dict[str, Any]) -> Callable[[Evaluator, Call], Any]:
    """resourceGroup(), subscription(), tenant(), deployment(), environment(): what a deployment knows."""

    def apply(ev: Evaluator, node: Call) -> Any:
        return OpenObject(label, known)

    return apply


_LAZY: dict[str, Callable[[Evaluator, Call], Any]] = {
    # logical: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-logical
    "if": _lazy_if,
    "and": _lazy_and_or(True),
    "or": _lazy_and_or(False),
    "not": _lazy_not,
    # deployment: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-deployment
    "parameters": _param_call,
    "variables": _var_call,
    "deployment": _scope_object("deployment()", {"name": Unknown("deployment().name")}),
    "environment": _scope_object("environment()", {"name": Unknown("environment().name")}),
    # numeric: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-numeric
    "copyindex": _copy_index,
    # resource: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource
    "reference": _reference,
    # scope: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-scope
    "resourcegroup": _scope_object("resourceGroup()", {
        "id": RESOURCE_GROUP_T, "name": Unknown("resourceGroup"), "location": Unknown("location")}),
    "subscription": _scope_object("subscription()", {
        "id": SUBSCRIPTION_T, "subscriptionId": Unknown("subscription"), "tenantId": Unknown("tenant")}),
    "tenant": _scope_object("tenant()", {"tenantId": Unknown("tenant")}),
    # lambda: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-lambda
    "lambda": _lambda,
    "lambdavariables": _lambda_variables,
    "map": _higher_order("map"),
    "filter": _higher_order("filter"),
    "reduce": _higher_order("reduce"),
    "toobject": _higher_order("toobject"),
    "mapvalues": _higher_order("mapvalues"),
}


def _secure(spec: Any) -> bool:
    """ARM's secure parameter types (template syntax reference: securestring, secureObject)."""
    return isinstance(spec, dict) and str(spec.get("type", "")).lower() in ("securestring", "secureobject")

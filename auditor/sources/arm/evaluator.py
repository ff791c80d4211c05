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

import json
from collections.abc import Callable
from typing import Any

from .bounds import MAX_ARGS, MAX_EXPRESSION, Breach, Budget
from .functions import FUNCTIONS, LAZY
from .syntax import Call, Lit, Prop, Unresolvable, parse
from .values import (
    MAX_ITEMS,
    NeedsKnown,
    OpenObject,
    PropertyMissing,
    Text,
    Unknown,
    absolute_id,
    as_text,
    get_property,
    is_expression,
    is_unknown,
    label_of,
    literal,
    render,
    scalar,
)

__all__ = ["Evaluator"]
MAX_DEPTH = 48  # nested evaluation (variables of variables, outputs of modules); deeper is Unknown

# ---------------------------------------------------------------------------------------- evaluator


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
        budget: Budget | None = None,
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
        self.budget = budget if budget is not None else Budget()  # one per file: bounds.py

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
                except (Breach, MemoryError) as exc:  # past a bound: unknown here, and an AU002 naming it
                    self.budget.record(str(exc) or "out of memory", raw)
                    return Unknown(label_of(raw[1:-1][:80]) or "expression")
            return literal(raw)
        if isinstance(raw, dict):
            out = {k: self.value(v) for k, v in raw.items() if k != "copy" or not isinstance(v, list)}
            if isinstance(raw.get("copy"), list):  # property iteration: copy-properties
                out.update(self._copy_list(raw["copy"]))
            return self._bounded(out, raw)
        if isinstance(raw, list):
            return self._bounded([self.value(v) for v in raw], raw)
        return raw

    def _bounded(self, built: Any, raw: Any) -> Any:
        """An object or array whose members are expressions may repeat a large value by reference
        (`["[variables('a')]", "[variables('a')]"]`): weighed as written out, like a function's result."""
        try:
            return self.budget.check(built)
        except Breach as exc:
            self.budget.record(str(exc), json.dumps(raw, default=str)[:200])
            return Unknown("value over the bounds")

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
        if len(expression) > MAX_EXPRESSION + 2:  # the brackets around it
            raise Breach(f"an expression over ARM's {MAX_EXPRESSION:,}-character limit")
        value = self.eval(parse(expression))
        # `reference(x).some.path` of a resource nobody declared: an object with nothing known is an unknown value
        return Unknown(value.label) if isinstance(value, OpenObject) and not value else value

    # ------------------------------------------------------------------------------------ tree

    def eval(self, node: Any) -> Any:
        if isinstance(node, Lit):
            return node.value
        self.budget.step()
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
        if len(args) > MAX_ARGS:
            raise Breach(f"a call with more than {MAX_ARGS:,} arguments")
        special = LAZY.get(name)
        if special is not None:
            try:
                return self.budget.check(special(self, node))
            except (NeedsKnown, TypeError, ValueError, IndexError, KeyError, AttributeError, PropertyMissing):
                return Unknown(label_of(node.src))  # wrong arguments: the deployment would fail; never our crash
        if name.startswith("list"):  # listKeys, listSecrets, listConnectionStrings...: secrets, never read
            return Unknown(f"{node.src.split('(', 1)[0]}({self._target_name(args[0]) if args else ''})", secret=True)
        fn = FUNCTIONS.get(name)
        values = [self.eval(a) for a in args]
        if fn is None:
            return Unknown(label_of(node.src))
        try:
            return self.budget.check(fn(values, node))
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


def _secure(spec: Any) -> bool:
    """ARM's secure parameter types (template syntax reference: securestring, secureObject)."""
    return isinstance(spec, dict) and str(spec.get("type", "")).lower() in ("securestring", "secureobject")

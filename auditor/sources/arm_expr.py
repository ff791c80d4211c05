"""Just enough of ARM's template-expression language to name resources, never to deploy them.

Names like `[concat(parameters('apim'), '/chat/policy')]` or `[format('{0}/{1}', parameters('apim'),
'chat')]` are resolved from literal arguments and parameter defaults; what cannot be known before a
deployment (a parameter without a default, `uniqueString(...)`) becomes a readable placeholder such as
`{apimName}`. Anything outside this subset raises `Unresolvable` and the caller keeps the raw text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

SUBSCRIPTION = "/subscriptions/{subscription}"
RESOURCE_GROUP = SUBSCRIPTION + "/resourceGroups/{resourceGroup}"
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<p>[(),.\[\]]))")
MAX_DEPTH = 32


class Unresolvable(Exception):
    pass


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and not value.startswith("[[") and value.endswith("]")


def literal(value: str) -> str:
    """A string as ARM reads it: a leading `[[` escapes a literal `[`."""
    return value[1:] if value.startswith("[[") else value


class Evaluator:
    def __init__(self, parameters: dict[str, Any] | None = None, variables: dict[str, Any] | None = None):
        self.parameters = parameters if isinstance(parameters, dict) else {}
        self.variables = variables if isinstance(variables, dict) else {}
        self._depth = 0

    # ------------------------------------------------------------------------------------ public

    def string(self, value: Any) -> str:
        """The value as a string: evaluated when it is an expression, placeholders where unknown."""
        if not isinstance(value, str):
            return "" if value is None else str(value)
        if not is_expression(value):
            return literal(value)
        try:
            result = self.evaluate(value)
        except (Unresolvable, RecursionError):
            return value
        return result if isinstance(result, str) else str(result)

    def evaluate(self, expression: str) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise Unresolvable("expression nests too deep")
            tokens = _tokenize(expression[1:-1])
            value, pos = self._expr(tokens, 0)
            if pos != len(tokens):
                raise Unresolvable(f"unexpected {tokens[pos][1]!r}")
            return value
        finally:
            self._depth -= 1

    # ------------------------------------------------------------------------------------ parser

    def _expr(self, tokens: list[tuple[str, str]], pos: int) -> tuple[Any, int]:
        if pos >= len(tokens):
            raise Unresolvable("unexpected end")
        kind, text = tokens[pos]
        if kind == "str":
            value: Any = text[1:-1].replace("''", "'")
            pos += 1
        elif kind == "num":
            value, pos = int(text), pos + 1
        elif kind == "name":
            if pos + 1 >= len(tokens) or tokens[pos + 1][1] != "(":
                if text in ("true", "false"):
                    return text == "true", pos + 1
                raise Unresolvable(f"bare name {text}")
            args, pos = self._args(tokens, pos + 2)
            value = self._call(text, args)
        else:
            raise Unresolvable(f"unexpected {text!r}")
        while pos < len(tokens) and tokens[pos][1] in (".", "["):
            if tokens[pos][1] == ".":
                if pos + 1 >= len(tokens) or tokens[pos + 1][0] != "name":
                    raise Unresolvable("bad property access")
                value = _prop(value, tokens[pos + 1][1])
                pos += 2
            else:
                index, pos = self._expr(tokens, pos + 1)
                if pos >= len(tokens) or tokens[pos][1] != "]":
                    raise Unresolvable("unclosed [")
                value = _prop(value, index)
                pos += 1
        return value, pos

    def _args(self, tokens: list[tuple[str, str]], pos: int) -> tuple[list[Any], int]:
        args: list[Any] = []
        if pos < len(tokens) and tokens[pos][1] == ")":
            return args, pos + 1
        while True:
            value, pos = self._expr(tokens, pos)
            args.append(value)
            if pos >= len(tokens):
                raise Unresolvable("unclosed (")
            if tokens[pos][1] == ")":
                return args, pos + 1
            if tokens[pos][1] != ",":
                raise Unresolvable(f"expected , found {tokens[pos][1]!r}")
            pos += 1

    # ------------------------------------------------------------------------------------ functions

    def _param(self, name: Any) -> Any:
        spec = self.parameters.get(str(name))
        if isinstance(spec, dict) and "defaultValue" in spec:
            default = spec["defaultValue"]
            return self.string(default) if isinstance(default, str) else default
        return "{" + str(name) + "}"

    def _var(self, name: Any) -> Any:
        if str(name) not in self.variables:
            raise Unresolvable(f"unknown variable {name}")
        value = self.variables[str(name)]
        return self.string(value) if isinstance(value, str) else value

    def _call(self, name: str, args: list[Any]) -> Any:
        fn = _FUNCTIONS.get(name.lower())
        if fn is None:
            if name.lower() == "parameters":
                return self._param(args[0] if args else "")
            if name.lower() == "variables":
                return self._var(args[0] if args else "")
            raise Unresolvable(f"function {name}")
        return fn(args)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise Unresolvable(f"cannot read {text[pos:pos + 10]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


def _prop(value: Any, key: Any) -> Any:
    if isinstance(value, dict) and key in value:
        return value[key]
    if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
        return value[key]
    if isinstance(value, str) and key in ("id", "name"):
        return value if key == "id" else value.rstrip("/").rsplit("/", 1)[-1]
    raise Unresolvable(f"property {key}")


def _s(v: Any) -> str:
    return v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)


def _format(args: list[Any]) -> str:
    if not args:
        raise Unresolvable("format()")
    template = _s(args[0])
    return re.sub(r"\{(\d+)(?::[^}]*)?\}", lambda m: _s(args[int(m.group(1)) + 1]) if int(m.group(1)) + 1 < len(args)
                  else m.group(0), template)


def _resource_id(prefix: str) -> Callable[[list[Any]], str]:
    def build(args: list[Any]) -> str:
        parts = [_s(a) for a in args]
        # optional leading subscription id / resource group name: a type always contains a '/'
        while parts and "/" not in parts[0]:
            parts = parts[1:]
        if not parts:
            raise Unresolvable("resourceId() without a type")
        rtype, names = parts[0], parts[1:]
        segments = rtype.split("/")
        namespace, types = segments[0], segments[1:]
        path = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=False))
        return f"{prefix}/providers/{namespace}/{path}"

    return build


def _coalesce(args: list[Any]) -> Any:
    return next((a for a in args if a not in (None, "")), None)


_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "concat": lambda a: "".join(_s(x) for x in a) if all(not isinstance(x, list) for x in a) else [x for part in a for x in part],
    "format": _format,
    "tolower": lambda a: _s(a[0]).lower(),
    "toupper": lambda a: _s(a[0]).upper(),
    "string": lambda a: _s(a[0]),
    "trim": lambda a: _s(a[0]).strip(),
    "replace": lambda a: _s(a[0]).replace(_s(a[1]), _s(a[2])),
    "uniquestring": lambda a: "{uniqueString}",
    "guid": lambda a: "{guid}",
    "resourceid": _resource_id(RESOURCE_GROUP),
    "subscriptionresourceid": _resource_id(SUBSCRIPTION),
    "tenantresourceid": _resource_id(""),
    "extensionresourceid": lambda a: f"{_s(a[0])}{_resource_id('')(a[1:])}",
    "resourcegroup": lambda a: {"id": RESOURCE_GROUP, "name": "{resourceGroup}", "location": "{location}"},
    "subscription": lambda a: {"id": SUBSCRIPTION, "subscriptionId": "{subscription}", "tenantId": "{tenant}"},
    "tenant": lambda a: {"tenantId": "{tenant}"},
    "coalesce": _coalesce,
    "if": lambda a: a[1] if a[0] else a[2],
    "equals": lambda a: a[0] == a[1],
    "not": lambda a: not a[0],
    "bool": lambda a: a[0] if isinstance(a[0], bool) else _s(a[0]).lower() == "true",
    "last": lambda a: a[0][-1] if isinstance(a[0], list) else _s(a[0])[-1:],
    "split": lambda a: _s(a[0]).split(_s(a[1])),
    "empty": lambda a: a[0] in (None, "", [], {}),
    "length": lambda a: len(a[0]) if isinstance(a[0], (str, list, dict)) else 0,
    "contains": lambda a: a[1] in a[0] if isinstance(a[0], (str, list, dict)) else False,
    "and": lambda a: all(a),
    "or": lambda a: any(a),
}

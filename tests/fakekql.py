"""A small KQL evaluator for the fake Log Analytics: it runs the query text the tool prints and sends over
raw table rows, so a test of the usage round trip exercises the queries themselves, not a hand-made file.

It implements the subset the generated queries use, with KQL's semantics (learn.microsoft.com/azure/kusto):
`let x = scalar;`, a table, then `where`, `extend`, `summarize ... by`, `join kind=leftouter (...) on col`,
`project`, `order by`; scalars: string/number/datetime()/timespan literals, `==` `!=` `<` `<=` `>` `>=`
`in` `in~` `startswith` `endswith` `and` `or` `+` `-`, `Properties["x"]`, and tostring, toint, startofday, format_datetime, case, iff;
aggregations sum, sumif, max, min, count, arg_max. Anything else raises, so a query outside the subset fails
the test instead of passing by accident.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

Row = dict[str, Any]
TOKEN = re.compile(r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<dtlit>datetime\([^)]*\))
  | (?P<str>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<span>\d+(?:\.\d+)?(?:d|h|m|s|ms)\b)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*~?)
  | (?P<op>==|!=|>=|<=|=~|[|(),=<>\[\];+\-*/])
""", re.X)
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


class KqlError(Exception):
    pass


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m[1], m[1]), body)


def tokenize(text: str) -> list[tuple[str, Any]]:
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise KqlError(f"cannot read the query at {text[pos:pos + 30]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        value = m[kind]
        if kind == "dtlit":
            out.append(("lit", _datetime(value[len("datetime("):-1].strip())))
        elif kind == "str":
            out.append(("str", _unquote(value)))
        elif kind == "span":
            n, unit = re.match(r"([\d.]+)(\w+)", value).groups()
            out.append(("lit", dt.timedelta(**{{"d": "days", "h": "hours", "m": "minutes", "s": "seconds",
                                                "ms": "milliseconds"}[unit]: float(n)})))
        elif kind == "num":
            out.append(("lit", float(value) if "." in value else int(value)))
        else:
            out.append((kind, value))
    out.append(("end", None))
    return out


# ---------------------------------------------------------------------------------------------- scalars

def _tostring(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(v)


def _format_datetime(v: Any, fmt: str) -> str:
    if v is None:
        return ""
    for kql, py in (("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")):
        fmt = fmt.replace(kql, py)
    return v.strftime(fmt)


def _case(*args: Any) -> Any:
    for cond, value in zip(args[:-1:2], args[1:-1:2], strict=True):
        if cond:
            return value
    return args[-1]


def _datetime(v: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(str(v)).replace(tzinfo=dt.timezone.utc)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "tostring": _tostring,
    "toint": lambda v: None if v is None else int(v),
    "startofday": lambda v: None if v is None else v.replace(hour=0, minute=0, second=0, microsecond=0),
    "format_datetime": _format_datetime,
    "case": _case,
    "iff": lambda c, a, b: a if c else b,
    "datetime": _datetime,
}


def _cmp(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return op == "!=" and (a is None) != (b is None)
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "=~":
            str(a).lower() == str(b).lower()}[op]


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]):
        self.t = tokens
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, Any]:
        return self.t[self.i + k]

    def take(self, kind: str | None = None, value: Any = None) -> tuple[str, Any]:
        tok = self.t[self.i]
        if (kind and tok[0] != kind) or (value is not None and tok[1] != value):
            raise KqlError(f"expected {value or kind}, got {tok[1]!r}")
        self.i += 1
        return tok

    def at(self, value: str) -> bool:
        return self.t[self.i][1] == value and self.t[self.i][0] in ("op", "id")

    # expressions: each returns a function row -> value (env holds the lets)
    def expr(self) -> Callable[[Row], Any]:
        return self.or_()

    def or_(self):
        left = self.and_()
        while self.at("or"):
            self.take()
            right, prev = self.and_(), left
            left = lambda r, a=prev, b=right: bool(a(r)) or bool(b(r))  # noqa: E731
        return left

    def and_(self):
        left = self.cmp()
        while self.at("and"):
            self.take()
            right, prev = self.cmp(), left
            left = lambda r, a=prev, b=right: bool(a(r)) and bool(b(r))  # noqa: E731
        return left

    def cmp(self):
        left = self.add()
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">=", "=~"):
            self.take()
            right = self.add()
            return lambda r, op=tok[1]: _cmp(op, left(r), right(r))
        if tok[0] == "id" and tok[1] in ("startswith", "endswith"):
            # https://learn.microsoft.com/kusto/query/startswith-operator and endswith-operator: case-insensitive
            self.take()
            right = self.add()
            if tok[1] == "startswith":
                return lambda r: str(left(r) or "").lower().startswith(str(right(r) or "").lower())
            return lambda r: str(left(r) or "").lower().endswith(str(right(r) or "").lower())
        if tok[0] == "id" and tok[1] in ("in", "in~"):
            self.take()
            self.take("op", "(")
            items = [self.expr()]
            while self.at(","):
                self.take()
                items.append(self.expr())
            self.take("op", ")")
            fold = tok[1] == "in~"

            def member(r, items=items, fold=fold):
                v = left(r)
                values = [f(r) for f in items]
                if fold:
                    return str(v).lower() in {str(x).lower() for x in values}
                return v in values
            return member
        return left

    def add(self):
        left = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            right, prev = self.unary(), left
            left = (lambda r, a=prev, b=right: a(r) + b(r)) if op == "+" else (lambda r, a=prev, b=right: a(r) - b(r))
        return left

    def unary(self):
        if self.at("-"):
            self.take()
            inner = self.unary()
            return lambda r: -inner(r)
        return self.postfix()

    def postfix(self):
        node = self.primary()
        while self.at("["):
            self.take()
            key = self.expr()
            self.take("op", "]")
            node = (lambda r, n=node, k=key: (n(r) or {}).get(k(r)) if isinstance(n(r), dict) else None)  # noqa: E731
        return node

    def primary(self):
        kind, value = self.take()
        if kind in ("str", "lit"):
            return lambda r, v=value: v
        if kind == "op" and value == "(":
            inner = self.expr()
            self.take("op", ")")
            return inner
        if kind == "id":
            if value in ("true", "false"):
                return lambda r, v=value == "true": v
            if self.at("("):
                self.take()
                if value not in FUNCTIONS:
                    raise KqlError(f"function {value}() is not in the evaluated subset")
                args = []
                if not self.at(")"):
                    args.append(self.expr())
                    while self.at(","):
                        self.take()
                        args.append(self.expr())
                self.take("op", ")")
                fn = FUNCTIONS[value]
                return lambda r, fn=fn, args=args: fn(*(a(r) for a in args))

            def column(r, name=value):
                if name in r:
                    return r[name]
                if name in self_env:
                    return self_env[name]
                raise KqlError(f"no column or variable {name!r}")
            self_env = self.env
            return column
        raise KqlError(f"unexpected {value!r}")

    env: dict[str, Any] = {}


# ---------------------------------------------------------------------------------------------- tabular

AGGREGATES = ("sum", "sumif", "max", "min", "count", "arg_max")


def _aggregate(name: str, args: list[Callable[[Row], Any]], rows: list[Row]) -> Any:
    if name == "count":
        return len(rows)
    if name == "sum":
        return sum(v for r in rows if (v := args[0](r)) is not None)
    if name == "sumif":
        return sum(v for r in rows if args[1](r) and (v := args[0](r)) is not None)
    values = [v for r in rows if (v := args[0](r)) is not None]
    if name == "max":
        return max(values) if values else None
    if name == "min":
        return min(values) if values else None
    raise KqlError(name)


class Evaluator:
    def __init__(self, tables: dict[str, list[Row]]):
        self.tables = tables

    def run(self, text: str) -> tuple[list[str], list[Row]]:
        p = _Parser(tokenize(text))
        p.env = {}
        while p.at("let"):
            p.take()
            name = p.take("id")[1]
            p.take("op", "=")
            p.env[name] = p.expr()({})
            p.take("op", ";")
        columns, rows = self.tabular(p)
        if p.peek()[0] != "end":
            raise KqlError(f"unexpected {p.peek()[1]!r} after the query")
        return columns, rows

    def tabular(self, p: _Parser) -> tuple[list[str], list[Row]]:
        table = p.take("id")[1]
        if table not in self.tables:
            raise KqlError(f"'{table}' is not a table of this workspace")
        rows = [dict(r) for r in self.tables[table]]
        columns = list(dict.fromkeys(k for r in rows for k in r)) if rows else list(TABLE_COLUMNS.get(table, ()))
        while p.at("|"):
            p.take()
            op = p.take("id")[1]
            columns, rows = getattr(self, f"op_{op}", self.unknown(op))(p, columns, rows)
        return columns, rows

    def unknown(self, op: str):
        def fail(*_a):
            raise KqlError(f"operator {op!r} is not in the evaluated subset")
        return fail

    def op_where(self, p, columns, rows):
        pred = p.expr()
        return columns, [r for r in rows if pred(r)]

    def _assignments(self, p) -> list[tuple[str, Callable[[Row], Any]]]:
        out = []
        while True:
            if p.peek(1) == ("op", "="):
                name = p.take("id")[1]
                p.take("op", "=")
                out.append((name, p.expr()))
            else:
                name = p.peek()[1]
                out.append((name, p.expr()))
            if not p.at(","):
                return out
            p.take()

    def op_extend(self, p, columns, rows):
        for name, fn in self._assignments(p):
            for r in rows:
                r[name] = fn(r)
            columns = [*[c for c in columns if c != name], name]
        return columns, rows

    def op_project(self, p, columns, rows):
        names = [name for name, _fn in self._assignments(p)]
        return names, [{n: r.get(n) for n in names} for r in rows]

    def op_order(self, p, columns, rows):
        p.take("id", "by")
        keys = []
        while True:
            fn = p.expr()
            desc = False
            if p.at("asc") or p.at("desc"):
                desc = p.take()[1] == "desc"
            keys.append((fn, desc))
            if not p.at(","):
                break
            p.take()
        for fn, desc in reversed(keys):
            rows.sort(key=lambda r, fn=fn: (fn(r) is not None, fn(r) if fn(r) is not None else 0), reverse=desc)
        return columns, rows

    def op_summarize(self, p, columns, rows):
        aggs: list[tuple[list[str], str, list[Callable]]] = []
        while True:
            name = None
            if p.peek(1) == ("op", "="):
                name = p.take("id")[1]
                p.take("op", "=")
            fname = p.take("id")[1]
            if fname not in AGGREGATES:
                raise KqlError(f"aggregation {fname}() is not in the evaluated subset")
            p.take("op", "(")
            args, arg_names = [], []
            while not p.at(")"):
                arg_names.append(p.peek()[1])
                args.append(p.expr())
                if p.at(","):
                    p.take()
            p.take("op", ")")
            outs = arg_names if fname == "arg_max" else [name or f"{fname}_"]
            aggs.append((outs, fname, args))
            if not p.at(","):
                break
            p.take()
        keys = self._assignments(p) if p.at("by") and p.take() else []
        groups: dict[tuple, list[Row]] = {}
        for r in rows:
            groups.setdefault(tuple(fn(r) for _n, fn in keys), []).append(r)
        out = []
        for key, members in groups.items():
            row = dict(zip([n for n, _f in keys], key, strict=True))
            for outs, fname, args in aggs:
                if fname == "arg_max":
                    best = max(members, key=lambda m: args[0](m))
                    row.update({n: f(best) for n, f in zip(outs, args, strict=True)})
                else:
                    row[outs[0]] = _aggregate(fname, args, members)
            out.append(row)
        names = [n for n, _f in keys] + [n for outs, _f, _a in aggs for n in outs]
        return names, out

    def op_join(self, p, columns, rows):
        p.take("id", "kind")
        p.take("op", "=")
        kind = p.take("id")[1]
        if kind != "leftouter":
            raise KqlError(f"join kind {kind} is not in the evaluated subset")
        p.take("op", "(")
        right_cols, right = self.tabular(p)
        p.take("op", ")")
        p.take("id", "on")
        on = p.take("id")[1]
        index: dict[Any, list[Row]] = {}
        for r in right:
            index.setdefault(r.get(on), []).append(r)
        extra = [c if c not in columns else f"{c}1" for c in right_cols]
        out = []
        for r in rows:
            for m in index.get(r.get(on)) or [{}]:
                joined = dict(r)
                for c, name in zip(right_cols, extra, strict=True):
                    joined[name] = m.get(c)
                out.append(joined)
        return columns + extra, out


TABLE_COLUMNS = {
    "AppMetrics": ("TimeGenerated", "Name", "Sum", "Properties"),
    "ApiManagementGatewayLlmLog": ("TimeGenerated", "CorrelationId", "ModelName", "DeploymentName", "Region",
                                   "PromptTokens", "CompletionTokens", "TotalTokens", "IsStreamCompletion"),
    "ApiManagementGatewayLogs": ("TimeGenerated", "CorrelationId", "ApiId", "ProductId", "ApimSubscriptionId"),
}


def _type(values: list[Any]) -> str:
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, int):
            return "long"
        if isinstance(v, float):
            return "real"
        if isinstance(v, dt.datetime):
            return "datetime"
        if isinstance(v, dict):
            return "dynamic"
        return "string"
    return "string"


def _json(v: Any) -> Any:
    return v.isoformat().replace("+00:00", "Z") if isinstance(v, dt.datetime) else v


def evaluate(text: str, tables: dict[str, list[Row]]) -> dict[str, Any]:
    """The Log Analytics REST answer (`tables[0]`) for the query over these tables."""
    columns, rows = Evaluator(tables).run(text)
    return {"tables": [{"name": "PrimaryResult",
                        "columns": [{"name": c, "type": _type([r.get(c) for r in rows])} for c in columns],
                        "rows": [[_json(r.get(c)) for c in columns] for r in rows]}]}

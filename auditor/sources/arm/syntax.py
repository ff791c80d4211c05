"""The syntax of ARM template expressions: `[concat(parameters('a'), '/x')]` into a small tree.

https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_BLANK = re.compile(r"\s*")
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)"
                    r"|(?P<p>[(),.\[\]?]))")


class Unresolvable(Exception):
    """The expression is not well formed (the template itself is broken there)."""


@dataclass(frozen=True, slots=True)
class Lit:
    value: Any


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Any, ...]
    src: str


@dataclass(frozen=True, slots=True)
class Prop:
    target: Any
    key: Any  # a node (index) or a str (property name)
    src: str


def _tokenize(src: str) -> list[tuple[str, str, int, int]]:
    tokens = []
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m:
            if _BLANK.fullmatch(src, pos):  # trailing spaces (a copy of the rest per token was quadratic)
                break
            raise Unresolvable(f"cannot read {src[pos:pos + 10]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind), m.start(kind), m.end()))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, src: str):
        self.src = src
        self.tokens = _tokenize(src)
        self.pos = 0

    def parse(self) -> Any:
        node = self.expr()
        if self.pos != len(self.tokens):
            raise Unresolvable(f"unexpected {self.tokens[self.pos][1]!r}")
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def expr(self) -> Any:
        if self.pos >= len(self.tokens):
            raise Unresolvable("unexpected end")
        kind, tok, start, _ = self.tokens[self.pos]
        self.pos += 1
        if kind == "str":
            node: Any = Lit(tok[1:-1].replace("''", "'"))
        elif kind == "num":
            node = Lit(float(tok) if "." in tok else int(tok))
        elif kind == "name":
            if self._peek() != "(":
                if tok.lower() in ("true", "false"):
                    return Lit(tok.lower() == "true")
                if tok.lower() == "null":
                    return Lit(None)
                raise Unresolvable(f"bare name {tok}")
            self.pos += 1
            args = []
            if self._peek() == ")":
                self.pos += 1
            else:
                while True:
                    args.append(self.expr())
                    sep = self._peek()
                    self.pos += 1
                    if sep == ")":
                        break
                    if sep != ",":
                        raise Unresolvable(f"expected , found {sep!r}")
            node = Call(tok.lower(), tuple(args), self.src[start:self.tokens[self.pos - 1][3]])
        else:
            raise Unresolvable(f"unexpected {tok!r}")
        while self._peek() in (".", "[", "?"):
            if self._peek() == "?":  # `a.?b` / `a?[0]`: safe dereference, same as plain access here
                self.pos += 1
                continue
            if self._peek() == ".":
                self.pos += 1
                if self.pos >= len(self.tokens) or self.tokens[self.pos][0] != "name":
                    raise Unresolvable("bad property access")
                key: Any = self.tokens[self.pos][1]
                self.pos += 1
            else:
                self.pos += 1
                key = self.expr()
                if self._peek() != "]":
                    raise Unresolvable("unclosed [")
                self.pos += 1
            node = Prop(node, key, self.src[start:self.tokens[self.pos - 1][3]])
        return node


_PARSED: dict[str, Any] = {}


def parse(expression: str) -> Any:
    """The syntax tree of `[...]` (cached: templates repeat the same expressions)."""
    node = _PARSED.get(expression)
    if node is None:
        node = _Parser(expression[1:-1]).parse()
        if len(_PARSED) < 20000:
            _PARSED[expression] = node
    return node

"""Mutants for benchmarks/mutation.py: mutmut's operators applied to a module's syntax tree, and the pytest plugin
(`-p mutants`) that serves one mutant in place of the module and records which test ran which line.

No file is rewritten: the mutated tree is compiled under the module's own file name and an import hook hands it to
the import system before the original is ever loaded.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import importlib.abc
import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work" / "mutation"
EQUIVALENT = ROOT / "benchmarks" / "mutation_equivalent.txt"
RESULTS = ROOT / "benchmarks" / "results-mutation.md"
TARGETS = ("checks/*.py", "auditor/resolve/*.py", "auditor/usage/*.py", "auditor/attribution/*.py",
           "auditor/exposure.py", "auditor/money*.py")
MAP_IGNORE = ("tests/test_wheel.py", "tests/test_html_browser.py", "tests/test_startup.py")
ENV = "AOAI_MUTANT"  # "<relative path>:<index>" in the pytest process that must see the mutant
# The tree that is mutated and tested: this checkout, or (`--tree REV`) a commit's files extracted under WORK, so a
# score can be measured on main while this checkout changes.
SRC = Path(os.environ.get("AOAI_MUTANT_ROOT", ROOT))

_CMP = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
        ast.GtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
        ast.Mod: ast.Div, ast.Pow: ast.Mult, ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr}
_SYM = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in",
        ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
        ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.BitOr: "|", ast.BitAnd: "&",
        ast.And: "and", ast.Or: "or"}


# ---- mutants ----------------------------------------------------------------------------------------------------
def module_name(rel: str) -> str:
    parts = rel[:-3].split("/")
    if parts[0] == "checks":
        parts = ["aoai_audit", "checks", *parts[1:]]
    else:
        parts = ["aoai_audit", *parts[1:]]
    return ".".join(p for p in parts if p != "__init__")


def _skipped(tree: ast.Module) -> set[int]:
    """ids of nodes that hold prose, not logic: docstrings, f-string text, RULE metadata, annotations."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            skip.add(id(body[0].value))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values if isinstance(v, ast.Constant))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "RULE" for t in node.targets):
            skip.update(id(n) for n in ast.walk(node))
        for ann in (getattr(node, "annotation", None), getattr(node, "returns", None)):
            if ann is not None:
                skip.update(id(n) for n in ast.walk(ann))
        if isinstance(node, ast.ImportFrom):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def _sites(tree: ast.Module):
    """Every mutation site in a fixed order: (node, field or index, description, statement line span)."""
    skip = _skipped(tree)
    bodies = [(f.body[0].lineno, f.end_lineno) for f in ast.walk(tree)
              if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and isinstance(f.body, list)]
    for stmt in ast.walk(tree):
        if not isinstance(stmt, ast.stmt):
            continue
        # a statement outside every function runs at import, before any test's context: 0 = "the whole module"
        inside = any(a <= stmt.lineno <= b for a, b in bodies)
        span = (stmt.lineno if inside else 0, stmt.lineno)
        children = [stmt] + [n for f in _own_fields(stmt) for n in ast.walk(f)]
        for node in children:
            if id(node) in skip:
                continue
            line = (getattr(node, "lineno", stmt.lineno), span[0])
            if isinstance(node, ast.Compare):
                for i, op in enumerate(node.ops):
                    yield node, ("cmp", i), f"{_SYM[type(op)]} → {_SYM[_CMP[type(op)]]}", line
            elif isinstance(node, ast.BoolOp):
                yield node, ("bool", 0), f"{_SYM[type(node.op)]} → {'or' if isinstance(node.op, ast.And) else 'and'}", line
            elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BIN:
                yield node, ("bin", 0), f"{_SYM[type(node.op)]} → {_SYM[_BIN[type(node.op)]]}", line
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                yield node, ("not", 0), "not x → x", line
            elif isinstance(node, ast.Constant) and type(node.value) in (bool, int, float, str) \
                    and not (isinstance(node.value, str) and " " in node.value):  # a sentence is prose
                yield node, ("const", 0), f"{node.value!r} → {_changed(node.value)!r}", line
            elif isinstance(node, ast.Break):
                yield node, ("flow", 0), "break → continue", line
            elif isinstance(node, ast.Continue):
                yield node, ("flow", 0), "continue → break", line
            elif isinstance(node, ast.Return) and node.value is not None \
                    and not (isinstance(node.value, ast.Constant) and node.value.value is None):
                yield node, ("return", 0), "return x → return None", line


def _own_fields(stmt: ast.stmt):
    """The expressions a statement holds itself (not the nested statements, which are sites of their own)."""
    for _name, value in ast.iter_fields(stmt):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, (ast.expr, ast.keyword, ast.comprehension, ast.arguments, ast.withitem)):
                yield item


def _changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    return "XX" + value + "XX" if value else "XX"


def _apply(node: ast.AST, where: tuple[str, int]):
    kind, i = where
    if kind == "cmp":
        node.ops[i] = _CMP[type(node.ops[i])]()
    elif kind == "bool":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "bin":
        node.op = _BIN[type(node.op)]()
    elif kind == "const":
        node.value = _changed(node.value)
    elif kind == "return":
        node.value = ast.Constant(None)


def _negate_removed(tree: ast.Module, index: int) -> ast.Module:
    """Apply site `index`; `not x → x` and the flow swaps replace the node in its parent."""
    target = list(_sites(tree))[index]
    node, where = target[0], target[1]
    if where[0] not in ("not", "flow"):
        _apply(node, where)
        return tree
    new = node.operand if where[0] == "not" else (ast.Continue() if isinstance(node, ast.Break) else ast.Break())
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field, new)
            elif isinstance(value, list) and any(v is node for v in value):
                value[next(j for j, v in enumerate(value) if v is node)] = new
    ast.copy_location(new, node)
    return tree


@dataclass
class Mutant:
    path: str
    index: int
    line: int
    stmt_line: int
    mutation: str
    source: str
    status: str = "pending"  # killed | survived | timeout | equivalent | error
    tests: int = 0
    seconds: float = 0.0
    reason: str = ""


def mutants_of(rel: str) -> list[Mutant]:
    text = (SRC / rel).read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    return [Mutant(rel, i, line, stmt, desc, lines[line - 1].strip())
            for i, (_node, _where, desc, (line, stmt)) in enumerate(_sites(tree))]


def mutated_code(rel: str, index: int):
    text = (SRC / rel).read_text()
    tree = _negate_removed(ast.parse(text), index)
    return compile(ast.fix_missing_locations(copy.deepcopy(tree)), str(SRC / rel), "exec")


def target_files(only: list[str]) -> list[str]:
    files = sorted({p.relative_to(SRC).as_posix() for pat in TARGETS for p in SRC.glob(pat)})
    files = [f for f in files if not f.endswith("__init__.py")]
    return [f for f in files if not only or any(fnmatch.fnmatch(f, o) for o in only)]


# ---- inside pytest: the import hook and the coverage contexts --------------------------------------------------
class _MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, rel: str, index: int):
        self.rel, self.index, self.name = rel, index, module_name(rel)

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=str(SRC / self.rel))

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__file__ = str(SRC / self.rel)
        exec(mutated_code(self.rel, self.index), module.__dict__)


if os.environ.get(ENV):  # loaded with `-p mutants`: serve the mutant before anything imports the original
    _rel, _, _idx = os.environ[ENV].rpartition(":")
    sys.meta_path.insert(0, _MutantFinder(_rel, int(_idx)))


def pytest_runtest_setup(item):  # coverage context = the test's node id (what `pytest-cov --cov-context` does)
    import coverage

    cov = coverage.Coverage.current()
    if cov is not None:
        cov.switch_context(item.nodeid)


def pytest_runtest_logreport(report):
    if os.environ.get("AOAI_MUTATION_DURATIONS"):
        with open(os.environ["AOAI_MUTATION_DURATIONS"], "a") as out:
            out.write(json.dumps([report.nodeid, report.duration]) + "\n")


# ---- the driver --------------------------------------------------------------------------------------------------

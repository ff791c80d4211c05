"""Print the import graph of the aoai_audit package and exit 1 when it has a circle.

    python scripts/import_graph.py            # one line per module: `module -> what it imports`
    python scripts/import_graph.py --quiet    # only the circles (and the summary line)

Read statically from the working tree (auditor/ is aoai_audit, checks/ is aoai_audit.checks), so it judges the
code as written, not an installed copy. Every import counts, wherever it stands: at the top, inside a function
(a lazy import still ties the two modules together) and under `if TYPE_CHECKING:` (a circle of types is still a
circle a reader must untangle). `from pkg import name` is an edge to `pkg.name` when that is a module, else to
`pkg`. A package is not counted as importing its own parent: Python runs the parent's `__init__` first, but
only an import the parent's `__init__` itself writes makes that a dependency.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "aoai_audit"
ROOMS = {ROOT / "auditor": PACKAGE, ROOT / "checks": f"{PACKAGE}.checks"}


def modules(rooms: dict[Path, str] = ROOMS) -> dict[str, Path]:
    """Module name → file, for every .py file of the package's folders."""
    found: dict[str, Path] = {}
    for folder, name in rooms.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([name, *parts])] = path
    return found


def _base(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name a relative `from` import starts from."""
    if level == 0:
        return target or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts + ([target] if target else []))


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that `module` imports (anywhere in its file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                while name and name not in known:  # `import aoai_audit.x.y` → the deepest known module
                    name = name.rpartition(".")[0]
                if name:
                    out.add(name)
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, is_package, node.level, node.module)
            for alias in node.names:
                full = f"{base}.{alias.name}" if base else alias.name
                if full in known:
                    out.add(full)
                elif base in known:
                    out.add(base)
    out.discard(module)
    return out


def graph(rooms: dict[Path, str] = ROOMS) -> dict[str, set[str]]:
    found = modules(rooms)
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in sorted(found.items())}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quiet", action="store_true", help="print only the circles and the summary")
    args = parser.parse_args(argv)
    edges = graph()
    if not args.quiet:
        for name, deps in edges.items():
            print(f"{name} -> {', '.join(sorted(deps)) or '(nothing of the package)'}")
    found = circles(edges)
    for component in found:
        print("circle: " + " ↔ ".join(component))
    count = sum(len(d) for d in edges.values())
    print(f"{len(edges)} modules, {count} imports, {len(found)} circle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

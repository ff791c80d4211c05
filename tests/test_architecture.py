"""The house stays livable: no import circle in the package (scripts/import_graph.py) and no module over 400 lines."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from conftest import ROOT

MAX_LINES = 400


def _import_graph():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_has_no_import_circle():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "import_graph.py")], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1].endswith(", 0 circle(s)")
    # the graph is the package's: its entry, its rooms and its checks are all there
    shown = {line.split(" -> ")[0] for line in lines[:-1]}
    assert {"aoai_audit.entry", "aoai_audit.engine", "aoai_audit.sources.live.collector",
            "aoai_audit.checks.tm001_token_metric_missing"} <= shown


def test_the_graph_finds_circles_however_the_import_is_written(tmp_path):
    graph = _import_graph()
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..c import C\n")
    (pkg / "c.py").write_text("def f():\n    import pkg.a\n")
    (pkg / "d.py").write_text("from . import a\nfrom .sub.b import name\n")
    edges = graph.graph({pkg: "pkg"})
    assert edges["pkg.d"] == {"pkg.a", "pkg.sub.b"}
    assert graph.circles(edges) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    (pkg / "c.py").write_text("def f():\n    return 1\n")
    assert graph.circles(graph.graph({pkg: "pkg"})) == []


def test_no_module_is_over_400_lines():
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for folder in ("auditor", "checks") for p in (ROOT / folder).rglob("*.py")}
    assert len(sizes) > 100
    over = {path: n for path, n in sizes.items() if n > MAX_LINES}
    assert not over, f"split these modules (one job each, at most {MAX_LINES} lines): {over}"


def test_the_rooms_depend_on_each_other_one_way():
    """docs/architecture.md: sources never reach into the resolver, the context, the engine or the checks; a check
    never imports another check; a report never imports a check."""
    edges = _import_graph().graph()

    def reaches(module: str, *rooms: str) -> list[str]:
        return sorted(d for d in edges[module] if any(d == r or d.startswith(r + ".") for r in rooms))

    for module in edges:
        if module.startswith("aoai_audit.sources"):
            assert not reaches(module, "aoai_audit.resolve", "aoai_audit.context", "aoai_audit.engine",
                               "aoai_audit.checks"), module
        if module.startswith("aoai_audit.report"):
            assert not reaches(module, "aoai_audit.checks"), module
        if module.startswith("aoai_audit.checks."):
            rules = [d for d in reaches(module, "aoai_audit.checks") if not d.rsplit(".", 1)[-1].startswith("_")]
            assert not rules, f"{module} imports another check: {rules}"

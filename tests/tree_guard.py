"""Is the `aoai_audit` these tests would import this tree's code? (Standard library only, and nothing of
aoai_audit is imported: a broken or stale copy must not get to run before it is found out.)

The tree maps folders to packages (setup.py): auditor/ → aoai_audit, checks/ → aoai_audit.checks,
report_templates/ → aoai_audit.report_templates. An editable install imports those folders themselves; a
non-editable one (the README's `pip install ".[test]"`) imports a copy, which is this tree only while every
module, template and data file has the same content (compared by hash, not by date). Anything else - another
checkout's folders, a copy that differs, a missing install, entry points that no longer match pyproject.toml -
tests something other than the tree, and the run must stop and say how to fix it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sys
from pathlib import Path

ROOTS = {"aoai_audit": "auditor", "aoai_audit.checks": "checks", "aoai_audit.report_templates": "report_templates"}
FIX = "run: pip install -e '.[test]'"
SKIP_SUFFIXES = {".pyc", ".pyo"}
SHOWN = 5  # differing files named in the message


def locate(name: str, parent_path: list[str] | None) -> Path | None:
    """The folder `import name` would load, found as the import system finds it but without importing."""
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__path__", None):
        return Path(next(iter(module.__path__)))
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        spec = find(name, parent_path)
        if spec is not None:
            locations = list(spec.submodule_search_locations or [])
            return Path(locations[0]) if locations else None
    return None


def _shipped(folder: Path, other_roots: set[Path]) -> dict[str, str]:
    """Relative path → sha256 of every file a package folder holds (as setup.py ships them: no dot-names, no
    __pycache__, Python source only inside packages), leaving out the folders of the other mapped packages."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__"
                             and (here / d).resolve() not in other_roots)
        package = (here / "__init__.py").is_file()
        for name in filenames:
            path = here / name
            if name.startswith(".") or path.suffix in SKIP_SUFFIXES or (path.suffix == ".py" and not package):
                continue
            out[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def differences(tree: Path, copy: Path, other_tree: set[Path], other_copy: set[Path]) -> list[str]:
    """Files (relative to the folder) that are in one but not the other, or whose content differs."""
    mine, theirs = _shipped(tree, other_tree), _shipped(copy, other_copy)
    return sorted(rel for rel in mine.keys() | theirs.keys() if mine.get(rel) != theirs.get(rel))


def _installed_copy(folder: Path) -> bool:
    """Inside an environment's site-packages (an install), not a source folder of some checkout."""
    return any(part in ("site-packages", "dist-packages") for part in folder.resolve().parts)


def _declared_entry_points(root: Path) -> dict[str, str] | None:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: no TOML reader in the standard library; skip this comparison
        return None
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(data.get("project", {}).get("entry-points", {}).get("aoai_audit.checks", {}))


def check(root: Path) -> str | None:
    """None when the importable aoai_audit is this tree's code; else one message with the fix."""
    found: dict[str, Path] = {}
    for name in ROOTS:
        parent = name.rpartition(".")[0]
        path = locate(name, [str(found[parent])] if parent else None)
        if path is None:
            return f"{name} cannot be imported (no install of this tree); {FIX}"
        found[name] = path
    tree_dirs = {name: (root / folder).resolve() for name, folder in ROOTS.items()}
    copy_dirs = {name: path.resolve() for name, path in found.items()}
    differ: list[str] = []
    for name, folder in ROOTS.items():
        tree, copy = tree_dirs[name], copy_dirs[name]
        if copy == tree:
            continue
        if not _installed_copy(copy):
            return f"{name} at {copy} is another checkout's {folder}/, not this tree's ({tree}); {FIX}"
        differ += [f"{folder}/{rel}" for rel in differences(tree, copy, set(tree_dirs.values()) - {tree},
                                                            set(copy_dirs.values()) - {copy})]
    if differ:
        shown = ", ".join(differ[:SHOWN]) + (", ..." if len(differ) > SHOWN else "")
        return (f"aoai_audit at {copy_dirs['aoai_audit']} is not this tree's auditor/ "
                f"({len(differ)} file(s) differ: {shown}); {FIX}")
    declared = _declared_entry_points(root)
    if declared is not None:
        installed = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="aoai_audit.checks")}
        if installed != declared:
            changed = sorted(k for k in declared.keys() | installed.keys() if declared.get(k) != installed.get(k))
            return (f"the installed aoai_audit.checks entry points differ from pyproject.toml "
                    f"({', '.join(changed[:SHOWN])}{', ...' if len(changed) > SHOWN else ''}); {FIX}")
    return None

"""Type-check the package as Python imports it: `mypy -p aoai_audit`, with auditor/ as aoai_audit and checks/ as
aoai_audit.checks.

    python scripts/typecheck.py [extra mypy arguments]

`mypy auditor checks` cannot do this by itself: the checks import `aoai_audit.*`, a name that exists only through
the install's folder mapping (setup.py ROOTS), which mypy does not follow (an editable install maps it with an
import hook). So the package is laid out as it is installed, as symbolic links in a temporary folder, and mypy
runs over that with the settings of pyproject.toml's [tool.mypy]. The links live at one fixed place
(.mypy_cache/layout/), so mypy's cache, which remembers file paths, stays valid from run to run. Paths in mypy's report are given back as the
tree's own (auditor/..., checks/...). The exit code is mypy's: 0 clean, 1 type errors, 2 mypy could not run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOMS = {"": ROOT / "auditor", "checks": ROOT / "checks"}  # folder inside aoai_audit → folder of the tree


LAYOUT = ROOT / ".mypy_cache" / "layout"


def layout(into: Path) -> Path:
    """aoai_audit/ as installed, every entry a link into the tree (made afresh: files come and go)."""
    package = into / "aoai_audit"
    if package.exists():
        shutil.rmtree(package)
    package.mkdir(parents=True)
    for inside, folder in ROOMS.items():
        if inside:
            (package / inside).symlink_to(folder, target_is_directory=True)
            continue
        for entry in folder.iterdir():
            if entry.name != "__pycache__":
                (package / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    return package


def main(argv: list[str]) -> int:
    package = layout(LAYOUT)
    env = dict(os.environ, MYPYPATH=str(LAYOUT))
    run = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                          "-p", "aoai_audit", *argv], cwd=ROOT, env=env, capture_output=True, text=True)
    out = run.stdout + run.stderr
    for prefix, tree in ((package / "checks", "checks/"), (package, "auditor/")):
        out = out.replace(f"{prefix.relative_to(ROOT)}{os.sep}", tree).replace(f"{prefix}{os.sep}", tree)
    sys.stdout.write(out)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

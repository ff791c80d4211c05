"""Package discovery for the folder layout (auditor/ → aoai_audit, checks/ → aoai_audit.checks, ...).

pyproject.toml holds the metadata; this file only finds what goes into the wheel, so the package
list and the data files cannot drift from the tree: every folder under a mapped root is a package
and every file in it that is not Python source is package data. tests/test_wheel.py builds the
wheel and checks that each module, template and data file is inside.
"""

from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent
# Import package → folder that holds it. Sub-folders follow their parent's mapping.
ROOTS = {
    "aoai_audit": "auditor",
    "aoai_audit.checks": "checks",
    "aoai_audit.report_templates": "report_templates",
}
SKIP_DIRS = {"__pycache__"}
SKIP_SUFFIXES = {".py", ".pyc", ".pyo"}


def _is_package(folder: Path) -> bool:
    return (folder / "__init__.py").is_file()


def _data_files(folder: Path, base: Path):
    """Non-Python files of `folder`, and of its sub-folders that are not packages, relative to `base`."""
    for child in sorted(folder.iterdir()):
        if child.name.startswith(".") or child.name in SKIP_DIRS:
            continue
        if child.is_file() and child.suffix not in SKIP_SUFFIXES:
            yield child.relative_to(base).as_posix()
        elif child.is_dir() and not _is_package(child):
            yield from _data_files(child, base)


def _packages(package: str, folder: Path):
    yield package, folder
    for child in sorted(folder.iterdir()):
        dotted = f"{package}.{child.name}"
        if child.is_dir() and _is_package(child) and dotted not in ROOTS:
            yield from _packages(dotted, child)


def discover():
    packages: list[str] = []
    package_dir: dict[str, str] = {}
    package_data: dict[str, list[str]] = {}
    for root, folder in ROOTS.items():
        for package, path in _packages(root, HERE / folder):
            packages.append(package)
            package_dir[package] = path.relative_to(HERE).as_posix()
            data = list(_data_files(path, path))
            if data:
                package_data[package] = data
    return packages, package_dir, package_data


PACKAGES, PACKAGE_DIR, PACKAGE_DATA = discover()

setup(packages=PACKAGES, package_dir=PACKAGE_DIR, package_data=PACKAGE_DATA)

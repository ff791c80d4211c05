"""Turn the paths a user gives into one Estate, picking the right source for each input."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import replace
from importlib import import_module

from ..estate import CollectionGap, Estate, SourceInfo
from .apiops import looks_like_apiops, read_apiops
from .files import Reader
from .policy_files import read_policy_files

POLICY_SUFFIXES = (".xml",)
JSON_SUFFIXES = (".json", ".json.gz")
UNSUPPORTED_HINTS = {
    ".bicep": "Bicep source: compile it with `bicep build FILE` (or `az bicep build`) and scan the JSON",
    ".tf": "Terraform source: scan `terraform show -json` output of a plan or state instead",
    ".tftpl": "a Terraform template: scan `terraform show -json` output instead",
}
SKIP_DIRS = {".git", "node_modules", ".terraform", "__pycache__", ".venv"}


log = logging.getLogger(__name__)

def _walk(root: str) -> Iterator[tuple[str, list[str], list[str]]]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        yield dirpath, dirnames, sorted(filenames)


def _json_estate(path: str) -> Estate:
    """A JSON input: ARM template, Terraform show output, or an aoai-audit snapshot."""
    if path.endswith(".gz") or _peek_snapshot(path):
        try:
            from .snapshot import read_snapshot
        except ImportError:
            gap = CollectionGap("unparseable", path, "not audited: this build cannot read snapshots")
            return Estate(sources=(SourceInfo("snapshot", path, frozenset()),), gaps=(gap,))
        return read_snapshot(path)
    reader = Reader()
    doc = reader.read_json(path)
    if doc is None:
        return Estate(sources=(SourceInfo("json", path, frozenset()),), gaps=tuple(reader.gaps))
    if isinstance(doc, dict) and "format_version" in doc and ("planned_values" in doc or "values" in doc):
        return _with_reader("terraform", "read_terraform", path, doc)
    if isinstance(doc, dict) and ("resources" in doc or "$schema" in doc):
        return _with_reader("arm", "read_arm", path, doc)
    gap = CollectionGap(
        "unparseable", path, "JSON is not an ARM template, Terraform `show -json` output or aoai-audit snapshot"
    )
    return Estate(sources=(SourceInfo("json", path, frozenset()),), gaps=(gap,))


def _with_reader(module: str, func: str, path: str, doc: dict) -> Estate:
    try:
        reader = getattr(import_module(f"{__package__}.{module}"), func)
    except (ImportError, AttributeError):
        gap = CollectionGap("unparseable", path, f"not audited: this build has no {module} reader")
        return Estate(sources=(SourceInfo(module, path, frozenset()),), gaps=(gap,))
    try:
        return reader(path, doc)
    except Exception as exc:  # a reader bug must cost this file, not the audit
        gap = CollectionGap("unparseable", path, f"not audited: the {module} reader failed ({type(exc).__name__}: {exc})")
        return Estate(sources=(SourceInfo(module, path, frozenset()),), gaps=(gap,))


def _peek_snapshot(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return b'"aoai_audit_snapshot"' in fh.read(512)
    except OSError:
        return False


def _unsupported(path: str) -> CollectionGap | None:
    for suffix, hint in UNSUPPORTED_HINTS.items():
        if path.endswith(suffix):
            return CollectionGap("unparseable", path, f"not audited: {hint}")
    return None


def _directory(root: str, service_name: str | None = None) -> Estate:
    if looks_like_apiops(root):
        return read_apiops(root, service_name)
    estate = Estate(root=root)
    loose: list[str] = []
    apiops_roots: list[str] = []
    for dirpath, dirnames, filenames in _walk(root):
        if any(dirpath == r or dirpath.startswith(r + os.sep) for r in apiops_roots):
            continue
        if dirpath != root and looks_like_apiops(dirpath):
            apiops_roots.append(dirpath)
            estate = estate.merge(read_apiops(dirpath, service_name))
            dirnames[:] = []
            continue
        for name in filenames:
            path = os.path.join(dirpath, name)
            if name.lower().endswith(POLICY_SUFFIXES):
                loose.append(path)
            elif name.lower().endswith(JSON_SUFFIXES) and _is_candidate_json(path):
                estate = estate.merge(_json_estate(path))
    if loose:
        estate = estate.merge(read_policy_files(loose, root))
    if not estate.sources:
        estate = estate.merge(Estate(sources=(SourceInfo("directory", root, frozenset()),)))
    return estate


def _is_candidate_json(path: str) -> bool:
    """Skip package.json, tsconfig and the like: only templates, plans and snapshots are inputs."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return True  # let the reader report it
    if path.endswith(".gz"):
        return True
    return any(m in head for m in (b"deploymentTemplate", b'"format_version"', b'"aoai_audit_snapshot"',
                                   b"Microsoft.ApiManagement", b'"resources"'))


def load_paths(paths: list[str], service_name: str | None = None) -> Estate:
    """Read every path into one estate; `service_name` names the service of APIOps folders whose extractor
    configuration does not."""
    estate = Estate()
    snapshot_root = None  # a snapshot keeps the root it was collected with, so fingerprints match
    loose: list[str] = []
    for raw in paths:
        path = os.path.normpath(raw)
        if os.path.isdir(path):
            part = _directory(path, service_name)
        elif os.path.isfile(path):
            low = path.lower()
            if low.endswith(POLICY_SUFFIXES):
                loose.append(path)  # read together below, so names and fragment includes resolve
                continue
            elif low.endswith(JSON_SUFFIXES):
                part = _json_estate(path)
            else:
                gap = _unsupported(low) or CollectionGap(
                    "unparseable", path, "not audited: unknown input type (expected a policy .xml, ARM/Terraform "
                    "JSON, a snapshot or an APIOps folder)"
                )
                part = Estate(sources=(SourceInfo("file", path, frozenset()),), gaps=(gap,))
        else:
            raise FileNotFoundError(path)
        if raw == paths[0] and any(s.kind.startswith("snapshot of") for s in part.sources):
            snapshot_root = part.root
        log.debug("read %s: %d service(s), %d gap(s) (%s)", path, len(part.services), len(part.gaps),
                  ", ".join(sorted({s.kind for s in part.sources})))
        estate = estate.merge(part)
    if loose:
        common = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in loose])
        base = os.path.relpath(common) if not os.path.isabs(loose[0]) else common
        estate = estate.merge(read_policy_files(loose, base))
    first = os.path.normpath(paths[0]) if paths else ""
    root = first if os.path.isdir(first) else os.path.dirname(first)
    return replace(estate, root=snapshot_root or root)

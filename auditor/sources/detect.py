"""Turn the paths a user gives into one Estate, picking the right source for each input."""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import replace
from importlib import import_module

from ..estate import CollectionGap, Estate, SourceInfo
from .files import Reader, link_gap, outside
from .policy_files import read_policy_files
from .sniff import is_apiops_file, json_has_marker, xml_is_policy

POLICY_SUFFIXES = (".xml",)
JSON_SUFFIXES = (".json", ".json.gz")
UNSUPPORTED_HINTS = {
    ".bicep": "Bicep source: compile it with `bicep build FILE` (or `az bicep build`) and scan the JSON",
    ".tf": "Terraform source: scan `terraform show -json` output of a plan or state instead",
    ".tftpl": "a Terraform template: scan `terraform show -json` output instead",
}
SKIP_DIRS = {".git", "node_modules", ".terraform", "__pycache__", ".venv"}


log = logging.getLogger(__name__)

def _walk(root: str, gaps: list[CollectionGap] | None = None) -> Iterator[tuple[str, list[str], list[str]]]:
    """os.walk, sorted; a folder it cannot list (no permission, a path past PATH_MAX) is a gap (AU001), not
    silently left out as os.walk does by default."""
    def unlisted(exc: OSError) -> None:
        if gaps is not None:
            gaps.append(CollectionGap("unreadable", str(exc.filename or root),
                                      f"cannot read folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unlisted):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        yield dirpath, dirnames, sorted(filenames)


def _json_estate(path: str, walked: bool = False) -> Estate:
    """A JSON input: ARM template, Terraform show output, or an aoai-audit snapshot. A file met while walking a
    folder (`walked`) that turns out to be none of these is left alone, silently."""
    if path.endswith(".gz") and walked and not _peek_snapshot(path):
        return Estate()  # some other compressed file: never expanded
    if path.endswith(".gz") or _peek_snapshot(path):
        try:
            from .snapshot import read_snapshot
        except ImportError:
            gap = CollectionGap("unparseable", path, "not audited: this build cannot read snapshots")
            return Estate(sources=(SourceInfo("snapshot", path, frozenset()),), gaps=(gap,))
        return read_snapshot(path)
    plan = _streamed_terraform(path)
    if plan is not None:  # only the parts the Terraform reader uses, never the whole document at once
        return _with_reader("terraform", "read_terraform", path, plan)
    reader = Reader()
    doc = reader.read_json(path)
    if doc is None:
        return Estate(sources=(SourceInfo("json", path, frozenset()),), gaps=tuple(reader.gaps))
    if isinstance(doc, dict) and "format_version" in doc and ("planned_values" in doc or "values" in doc):
        return _with_reader("terraform", "read_terraform", path, doc)
    if walked and not _is_arm(doc):
        return Estate()
    if isinstance(doc, dict) and ("resources" in doc or "$schema" in doc):
        return _with_reader("arm", "read_arm", path, doc)
    gap = CollectionGap(
        "unparseable", path, "JSON is not an ARM template, Terraform `show -json` output or aoai-audit snapshot"
    )
    return Estate(sources=(SourceInfo("json", path, frozenset()),), gaps=(gap,))


def _streamed_terraform(path: str) -> dict | None:
    try:
        from .terraform.stream import stream_show_json
    except ImportError:
        return None
    return stream_show_json(path)


# Where each format's reader lives, relative to this package.
_READERS = {"arm": "arm.reader", "terraform": "terraform.reader"}


def _with_reader(module: str, func: str, path: str, doc: dict) -> Estate:
    try:
        reader = getattr(import_module(f"{__package__}.{_READERS[module]}"), func)
    except (ImportError, AttributeError):
        gap = CollectionGap("unparseable", path, f"not audited: this build has no {module} reader")
        return Estate(sources=(SourceInfo(module, path, frozenset()),), gaps=(gap,))
    try:
        return reader(path, doc)
    except Exception as exc:  # a reader bug must cost this file, not the audit
        gap = CollectionGap("unparseable", path, f"not audited: the {module} reader failed ({type(exc).__name__}: {exc})")
        return Estate(sources=(SourceInfo(module, path, frozenset()),), gaps=(gap,))


def _is_arm(doc: object) -> bool:
    """An ARM deployment template by its own marks: the deploymentTemplate `$schema`, or a resource list of
    provider types (`Microsoft.X/y`) beside `contentVersion`; a JSON file that merely has a `resources` key or
    a `$schema` is something else."""
    if not isinstance(doc, dict):
        return False
    schema = doc.get("$schema")
    if isinstance(schema, str) and "deploymenttemplate" in schema.lower():
        return True
    resources = doc.get("resources")
    items = resources.values() if isinstance(resources, dict) else resources if isinstance(resources, list) else ()
    return "contentVersion" in doc and any(isinstance(r, dict) and "/" in str(r.get("type", "")) for r in items)


def _peek_snapshot(path: str) -> bool:
    """Is this a snapshot? For a gzip file, only its first decompressed bytes are read to tell."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
            if head[:2] == b"\x1f\x8b":
                import gzip

                fh.seek(0)
                with gzip.GzipFile(fileobj=fh) as gz:
                    head = gz.read(512)
            return b'"aoai_audit_snapshot"' in head
    except (OSError, EOFError, zlib.error):
        return False


_LAYOUT_NAMES = ("policy.xml", "fragment.xml", "globalservicepolicy.xml")
def _is_policy_file(path: str) -> bool:
    """An APIM policy by layout (`policy.xml`, `NAME.policy.xml`, `fragment.xml`) or by its root element
    (`<policies>`, `<fragment>`): any other .xml in the tree (build files, project files) is not read. A file
    that cannot be opened is left to the reader, which says so (AU001)."""
    name = os.path.basename(path).lower()
    if name in _LAYOUT_NAMES or name.endswith(".policy.xml"):
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return True
    return xml_is_policy(head)


def _unsupported(path: str) -> CollectionGap | None:
    for suffix, hint in UNSUPPORTED_HINTS.items():
        if path.endswith(suffix):
            return CollectionGap("unparseable", path, f"not audited: {hint}")
    return None


def _directory(root: str, service_name: str | None = None) -> Estate:
    from .apiops import read_apiops  # a folder only: the pre-commit hook passes files
    from .apiops_layout import looks_like_apiops

    estate = Estate(root=root)
    loose: list[str] = []
    apiops_roots: list[str] = []
    unlisted: list[CollectionGap] = []
    for dirpath, dirnames, filenames in _walk(root, unlisted):
        inside = any(dirpath == r or dirpath.startswith(r + os.sep) for r in apiops_roots)
        if not inside and looks_like_apiops(dirpath):
            apiops_roots.append(dirpath)
            estate = estate.merge(read_apiops(dirpath, service_name))  # reads nothing outside it (files.Reader)
            inside = True
        if inside:  # the APIOps reader has its files; a template or plan kept below it is still an input
            for name in filenames:
                path = os.path.join(dirpath, name)
                if (name.lower().endswith(JSON_SUFFIXES) and not is_apiops_file(name) and not os.path.islink(path)
                        and os.path.isfile(path) and _is_candidate_json(path)):
                    estate = estate.merge(_json_estate(path, walked=True))
            continue
        links: list[CollectionGap] = []
        for name in dirnames:  # os.walk does not follow these; say so when one leads out of the folder
            if os.path.islink(os.path.join(dirpath, name)) and outside(os.path.join(dirpath, name), root):
                links.append(link_gap(os.path.join(dirpath, name)))
        for name in filenames:
            path = os.path.join(dirpath, name)
            low = name.lower()
            if not low.endswith(POLICY_SUFFIXES + JSON_SUFFIXES):
                continue
            if os.path.islink(path) and outside(path, root):
                links.append(link_gap(path))
                continue
            if not os.path.isfile(path):
                continue  # a FIFO, socket or device: opening it could block
            if low.endswith(POLICY_SUFFIXES):
                if _is_policy_file(path):
                    loose.append(path)
            elif _is_candidate_json(path):
                estate = estate.merge(_json_estate(path, walked=True))
        if links:
            estate = estate.merge(Estate(gaps=tuple(links)))
    if loose:
        estate = estate.merge(read_policy_files(loose, root, confine=True))
    if unlisted:
        estate = estate.merge(Estate(gaps=tuple(unlisted)))
    if not estate.sources:
        estate = estate.merge(Estate(sources=(SourceInfo("directory", root, frozenset()),)))
    return estate


def is_apim_file(path: str) -> bool:
    """A file the folder walk would read: a policy by layout or root element, or a candidate template, plan or
    snapshot (the pre-commit hooks skip every other file they are given)."""
    low = path.lower()
    if low.endswith(POLICY_SUFFIXES):
        return _is_policy_file(path)
    return low.endswith(JSON_SUFFIXES) and _is_candidate_json(path)


def _is_candidate_json(path: str) -> bool:
    """Skip package.json, tsconfig and the like: only templates, plans and snapshots are inputs (sniff.py reads
    them as the readers do: any encoding they accept, markers anywhere)."""
    if path.endswith(".gz"):
        return True
    try:
        return json_has_marker(path)
    except OSError:
        return True  # let the reader report it


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

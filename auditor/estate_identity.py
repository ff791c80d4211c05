"""Which estate a finding belongs to, for its fingerprint: the estate's folder or file relative to the repository.

Two APIOps extracts of one service (`prod/apimartifacts`, `dev/apimartifacts`) carry the same service name, so
their findings had the same resource and the same fingerprint: the report kept one of each pair, and an inline
suppression in dev hid prod's finding. A file-based estate's location relative to the repository root is
therefore part of its findings' identity when its name is not: an APIOps extract named after its folder, and
any file-based estate whose service name another estate of the same scan also has. A service name given
explicitly (`--service-name`, `apimServiceName`, a template's name) stays the identity on its own, so such an
estate keeps its fingerprints when its folder moves. Live and snapshot estates never need it: ARM resource
ids are unique across estates already.
"""

from __future__ import annotations

import os

from .estate import ApimService, SourceInfo
from .findings import Finding
from .project_root import project_path

FILE_ESTATES = frozenset({"apiops", "arm", "terraform"})  # read from a folder or file the repository holds
FOLDER_NAMED = "service name from the folder name"  # how an APIOps source's detail starts when it had no name


def estate_roots(sources: tuple[SourceInfo, ...], project_root: str, services: tuple[ApimService, ...] = ()
                 ) -> list[tuple[str, str]]:
    """(absolute location, identity) of each file-based estate whose name does not identify it, deepest first so
    a nested one wins."""
    names = [s.name.lower() for s in services]
    shared = len(names) != len(set(names))  # two estates of this scan hold a service of the same name
    roots = {}
    for source in sources:
        kind, location = _origin(source)
        if kind in FILE_ESTATES and location and (shared or (kind == "apiops" and
                                                             (source.detail or "").startswith(FOLDER_NAMED))):
            roots[os.path.abspath(location)] = project_path(location, project_root)
    return sorted(roots.items(), key=lambda r: len(r[0]), reverse=True)


def _origin(source: SourceInfo) -> tuple[str, str]:
    """The kind and location of what was read: a snapshot's source keeps both (sources/snapshot.py writes
    `snapshot of KIND` at `SNAPSHOT (LOCATION)`), so its findings keep the fingerprints of the run it saved."""
    prefix = "snapshot of "
    if source.kind.startswith(prefix) and source.location.endswith(")") and " (" in source.location:
        return source.kind[len(prefix):], source.location[source.location.index(" (") + 2:-1]
    return source.kind, source.location


def estate_of_path(path: str | None, roots: list[tuple[str, str]]) -> str:
    """The identity of the estate that holds `path` ("" when none does, or no path is known)."""
    if not path or not roots:
        return ""
    full = os.path.abspath(path)
    for root, identity in roots:
        if full == root or full.startswith(root.rstrip(os.sep) + os.sep):
            return identity
    return ""


def estate_of(finding: Finding, roots: list[tuple[str, str]]) -> str:
    return estate_of_path(finding.location.path, roots)

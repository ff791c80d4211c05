"""Which estate a finding belongs to, for its fingerprint: the estate's folder or file relative to the repository.

Two APIOps extracts of one service (`prod/apimartifacts`, `dev/apimartifacts`) carry the same service name, so
their findings had the same resource and the same fingerprint: the report kept one of each pair, and an inline
suppression in dev hid prod's finding. A file-based estate's location relative to the repository root is
therefore part of each of its findings' identity. Live and snapshot estates are not: ARM resource ids are
unique across estates already.
"""

from __future__ import annotations

import os

from .estate import SourceInfo
from .findings import Finding
from .project_root import project_path

FILE_ESTATES = frozenset({"apiops", "arm", "terraform"})  # read from a folder or file the repository holds


def estate_roots(sources: tuple[SourceInfo, ...], project_root: str) -> list[tuple[str, str]]:
    """(absolute location, identity) of each file-based estate, deepest first so a nested one wins."""
    roots = {os.path.abspath(s.location): project_path(s.location, project_root)
             for s in sources if s.kind in FILE_ESTATES and s.location}
    return sorted(roots.items(), key=lambda r: len(r[0]), reverse=True)


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

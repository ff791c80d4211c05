"""Paths as a repository sees them: relative to the git top level of what was scanned.

GitHub code scanning resolves a relative SARIF `artifactLocation.uri` from the repository root and does not
re-root it with `originalUriBaseIds` (github/codeql-action #1147, #2215; GitHub docs "SARIF support for code
scanning"), and Azure DevOps' SARIF viewer does the same. Fingerprints and baselines must not depend on where
the checkout sits or how a path was typed. Both therefore use one form: the POSIX path relative to the git top
level of the scanned path (the working directory where there is no repository).
"""

from __future__ import annotations

import os
from functools import lru_cache
from urllib.parse import quote


@lru_cache(maxsize=64)
def find_project_root(scanned: str) -> str:
    """Absolute git top level above `scanned` (a `.git` folder, or the `.git` file of a worktree), else the cwd."""
    start = os.path.abspath(scanned or ".")
    folder = start if os.path.isdir(start) else os.path.dirname(start)
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.getcwd()
        folder = parent


def project_path(path: str, root: str) -> str:
    """`path` (as typed, relative to the cwd, or absolute) relative to `root`, with forward slashes."""
    rel = os.path.relpath(os.path.abspath(path), root)
    return rel.replace(os.sep, "/")


@lru_cache(maxsize=4096)
def is_file_path(value: str) -> bool:
    """A resource that names a file or folder on disk (what could not be read is keyed by its path)."""
    return bool(value) and "\x00" not in value and os.path.exists(value)


def uri_reference(path: str) -> str:
    """A relative path as a valid URI reference (RFC 3986): spaces, `;`, `%`, non-ASCII percent-encoded."""
    return quote(path, safe="/-._~")

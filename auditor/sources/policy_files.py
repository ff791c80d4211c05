"""Loose policy files (a single file or a folder of them): the quick check and the pre-commit hook.

Each `<policies>` file is audited as the API-scope policy of an API named after the file;
each `<fragment>` file becomes a fragment named after its file, so includes between loose files resolve.
"""

from __future__ import annotations

import os
import re

from ..estate import CARRIES_POLICIES, Api, ApimService, Estate, Fragment, SourceInfo
from ..policy.tree import Origin
from ..project_root import find_project_root, project_path
from .files import Reader

SERVICE = "files"
_STEM = re.compile(r"(\.policy)?\.xml$", re.I)


def _name(path: str) -> str:
    """The file's path relative to the project root (git top level), without `.policy.xml`: the same whichever
    hook scans it and whatever other files are passed with it, so its fingerprints are stable (issue 24 item 9)."""
    rel = project_path(path, find_project_root(path))
    if rel.startswith("../"):  # outside the project (cannot happen for a file under it): its name alone
        rel = os.path.basename(path)
    return _STEM.sub("", rel)


def read_policy_files(paths: list[str], root: str, confine: bool = False) -> Estate:
    """`confine`: the files were found by walking root, so none may be read through a link out of it (files
    named on the command line are read as named)."""
    reader = Reader(root=root if confine else None)
    apis = []
    fragments = []
    for path in paths:
        name = _name(path)
        policy = reader.read_policy(path, "api", f"policy file '{name}'", f"service/{SERVICE}/apis/{name}")
        if policy is None:
            continue
        if policy.document is not None and policy.document.root_tag == "fragment":
            base = os.path.basename(name)
            if base.lower() in ("policy", "fragment"):  # APIOps layout: policy fragments/<name>/policy.xml
                base = os.path.basename(os.path.dirname(name)) or base
            fragments.append(Fragment(base, policy))
        else:
            apis.append(Api(name=name, display_name=name, policy=policy, origin=Origin(path, None, None, name)))
    service = ApimService(name=SERVICE, apis=tuple(apis), fragments=tuple(fragments), origin=Origin(root))
    return Estate(
        sources=(SourceInfo("policy-files", root, frozenset({CARRIES_POLICIES})),),
        services=(service,) if apis or fragments else (),
        gaps=tuple(reader.gaps),
        root=root,
    )

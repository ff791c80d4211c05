"""Pre-commit: a hook that is given no APIM artefact has nothing to say, so it says so and lets the commit through.

The hooks run on every matching file (`package.json`, a Maven `pom.xml`); the scan of a repository, or of
changed files, that holds no APIM policy, template, plan or snapshot is "nothing to audit" (exit 0), never "nothing
could be audited" (exit 2). What is an APIM artefact is the folder walk's own test (sources/detect.py), so the
hook and the walk agree. An artefact that cannot be read is still an artefact: it is audited, and fails closed.
"""

from __future__ import annotations

import os

NOTHING = "aoai-audit: nothing to audit (no API Management policy, template, plan or snapshot in {where})"


def apim_paths(paths: tuple[str, ...] | list[str]) -> list[str]:
    """The paths worth scanning: folders (their walk reads only APIM artefacts) and files that are artefacts."""
    from .sources.detect import is_apim_file

    return [p for p in paths if os.path.isdir(p) or not os.path.exists(p) or is_apim_file(p)]

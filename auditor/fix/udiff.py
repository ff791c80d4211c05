"""The fix as a patch: git's unified diff format, which `git apply` (and `patch -p1`) accept.

Paths are relative to the repository top level of the inputs (as in SARIF and fingerprints, project_root.py),
prefixed `a/` and `b/`. Lines keep their own endings (a CRLF file's patch carries CRLF), and a last line without
a newline is marked as git marks it.

A patch shows context lines, and a policy may hold a literal secret (SEC001). No context line that holds one is
shown: the context around it is shortened instead, and where a hunk would be left with no context on one side
(`git apply` would then anchor it at the start or end of the file) the file's change is withheld from the patch
and named, to be applied with `--write`, which shows nothing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..policy.rawxml import decode, read_policy

CONTEXT = 3
NO_NEWLINE = "\\ No newline at end of file\n"


@dataclass(frozen=True)
class FilePatch:
    path: str  # relative to the repository top level, forward slashes
    text: str  # the patch of this file ("" when withheld)
    withheld: str = ""  # why the patch is not shown


def _line(prefix: str, line: str) -> str:
    return prefix + line if line.endswith("\n") else prefix + line + "\n" + NO_NEWLINE


def _split(group: list[tuple[str, int, int, int, int]], secret: set[int]) -> list[list[tuple]]:
    """Cut a hunk where an unchanged line between two changes holds a secret."""
    hunks: list[list[tuple]] = []
    current: list[tuple] = []
    for tag, i1, i2, j1, j2 in group:
        if tag == "equal" and current and any(i in secret for i in range(i1, i2)):
            first = next(i for i in range(i1, i2) if i in secret)
            last = max(i for i in range(i1, i2) if i in secret)
            current.append(("equal", i1, first, j1, j1 + first - i1))
            hunks.append(current)
            current = [("equal", last + 1, i2, j1 + last + 1 - i1, j2)]
        else:
            current.append((tag, i1, i2, j1, j2))
    hunks.append(current)
    return hunks


def file_patch(path: str, old: str, new: str, secret_lines: set[int]) -> FilePatch:
    """`secret_lines`: 0-based lines of `old` that hold a secret (never shown)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out = [f"diff --git a/{path} b/{path}\n", f"--- a/{path}\n", f"+++ b/{path}\n"]
    for group in matcher.get_grouped_opcodes(CONTEXT):
        for hunk in _split(group, secret_lines):
            tag, i1, i2, j1, j2 = hunk[0]
            if tag == "equal":  # leading context: only what follows the last secret line
                keep = [i for i in range(i1, i2) if i in secret_lines]
                cut = (max(keep) + 1 - i1) if keep else 0
                hunk[0] = ("equal", i1 + cut, i2, j1 + cut, j2)
            tag, i1, i2, j1, j2 = hunk[-1]
            if tag == "equal" and len(hunk) > 1:  # trailing context: only what precedes the first secret line
                stop = next((i for i in range(i1, i2) if i in secret_lines), i2)
                hunk[-1] = ("equal", i1, stop, j1, j1 + stop - i1)
            lead = hunk[0][2] - hunk[0][1] if hunk[0][0] == "equal" else 0
            trail = hunk[-1][2] - hunk[-1][1] if hunk[-1][0] == "equal" and len(hunk) > 1 else 0
            first_old, last_old = hunk[0][1], hunk[-1][2]
            if any(i in secret_lines for t, i1, i2, _j1, _j2 in hunk if t != "equal" for i in range(i1, i2)):
                return FilePatch(path, "", "a changed line holds a literal secret")
            if (lead == 0 and first_old > 0) or (trail == 0 and last_old < len(a)):
                return FilePatch(path, "", "the lines around the change hold a literal secret, so the patch "
                                 "cannot show enough context")
            o1, o2 = hunk[0][1], hunk[-1][2]
            n1, n2 = hunk[0][3], hunk[-1][4]
            out.append(f"@@ -{_range(o1, o2 - o1)} +{_range(n1, n2 - n1)} @@\n")
            for t, i1, i2, k1, k2 in hunk:
                if t == "equal":
                    out.extend(_line(" ", x) for x in a[i1:i2])
                    continue
                out.extend(_line("-", x) for x in a[i1:i2])
                out.extend(_line("+", x) for x in b[k1:k2])
    return FilePatch(path, "".join(out))


def _range(start: int, length: int) -> str:
    """Unified diff ranges are 1-based; an empty range names the line before it."""
    if length == 0:
        return f"{start},0"
    return f"{start + 1}" if length == 1 else f"{start + 1},{length}"


def secret_lines(raw: str) -> set[int]:
    """0-based lines of a policy text that hold anything the audit redacts (literal keys, SAS tokens, ...): the
    lines where the redacted text differs from the text as written, and the lines of SEC001's hits. A text whose
    redaction changed its line count is all secret."""
    policy = read_policy(raw, scope="api")
    lines = decode(raw).split("\n")
    redacted = policy.text.split("\n")
    if len(redacted) != len(lines):
        return set(range(len(lines)))
    out = {i for i, (x, y) in enumerate(zip(lines, redacted, strict=True)) if x != y}
    if policy.document is not None:
        out |= {h.line - 1 for h in policy.document.secrets if h.line}
    return out

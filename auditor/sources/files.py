"""Bounded, failure-tolerant file reading shared by the offline sources.

Every read returns a value or records a CollectionGap: one bad file never stops the audit.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..estate import CollectionGap
from ..policy.rawxml import MAX_POLICY_CHARS, read_policy
from ..policy.tree import Policy

MAX_JSON_BYTES = 256 * 1024 * 1024  # terraform state of a large tenant is big; beyond this it's not ours


def outside(path: str, root: str, _dirs: dict[str, str] | None = None) -> bool:
    """Does path, with every symbolic link resolved, lie outside root (itself resolved)? `_dirs` caches the
    resolved folders, so a reader resolves each folder once and then only the file's own name."""
    cache = _dirs if _dirs is not None else {}
    base = _real_dir(root, cache)
    head, name = os.path.split(path)
    real = os.path.realpath(path) if os.path.islink(path) else os.path.join(_real_dir(head, cache), name)
    return real != base and not real.startswith(base.rstrip(os.sep) + os.sep)


def _real_dir(d: str, cache: dict[str, str]) -> str:
    """A module function, not a closure: a recursive closure is a reference cycle per call, which the audit (run
    with the cycle collector off) kept until the end: 24 MB at 10,000 APIs."""
    if d not in cache:
        parent, leaf = os.path.split(d)
        if not parent or parent == d or not leaf or os.path.islink(d):
            cache[d] = os.path.realpath(d)
        else:  # one lstat per folder: its parent is resolved already
            cache[d] = os.path.join(_real_dir(parent, cache), leaf)
    return cache[d]


def link_gap(path: str) -> CollectionGap:
    """A link out of the scanned folder: not followed, and said so (AU001), so the gate cannot pass on it."""
    return CollectionGap("unreadable", path, "not read: a symbolic link that points outside the scanned folder "
                         "(links are never followed out of it; scan the target itself if it belongs to the estate)")


@dataclass
class Reader:
    """Reads files for one source and collects the gaps it met. With a `root`, nothing outside it is read:
    a symbolic link that leads out of the folder is a gap, not a read."""

    gaps: list[CollectionGap] = field(default_factory=list)
    root: str | None = None
    _real: dict[str, str] = field(default_factory=dict, repr=False)  # resolved folders, for `outside`

    def gap(self, kind: str, target: str, message: str, line: int | None = None, resource: str = "") -> None:
        self.gaps.append(CollectionGap(kind=kind, target=target, message=message, line=line, resource=resource))

    def read_bytes(self, path: str, limit: int) -> bytes | None:
        if self.root is not None and outside(path, self.root, self._real):
            if not any(g.target == path for g in self.gaps):
                self.gaps.append(link_gap(path))
            return None
        try:
            with open(path, "rb") as fh:  # callers only pass regular files: opening a FIFO would block
                size = os.fstat(fh.fileno()).st_size
                if size > limit:
                    self.gap("unparseable", path, f"file is {size:,} bytes, over the {limit:,}-byte limit; skipped")
                    return None
                data = fh.read(size + 1)  # sized by stat: read(limit) would allocate `limit` bytes every time
            if len(data) > limit:
                self.gap("unparseable", path, f"file grew past the {limit:,}-byte limit while reading; skipped")
                return None
            return data
        except OSError as exc:
            self.gap("unreadable", path, f"cannot read file: {exc.strerror or exc}")
            return None

    def read_json(self, path: str, limit: int = MAX_JSON_BYTES) -> Any | None:
        data = self.read_bytes(path, limit)
        if data is None:
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("utf-16")
            except UnicodeDecodeError:
                self.gap("unparseable", path, "not UTF-8 or UTF-16 text")
                return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            self.gap("unparseable", path, f"invalid JSON: {exc.msg}", exc.lineno)
            return None
        except RecursionError:
            self.gap("unparseable", path, "JSON nested too deeply")
            return None

    def read_policy(self, path: str, scope: str, label: str, resource: str = "") -> Policy | None:
        data = self.read_bytes(path, MAX_POLICY_CHARS * 4)
        if data is None:
            return None
        return read_policy(data, scope=scope, path=path, label=label)  # a parse error is reported by AU002


def properties(doc: Any) -> dict[str, Any]:
    """APIOps and ARM wrap fields in `properties`; older extractor versions did not."""
    if not isinstance(doc, dict):
        return {}
    props = doc.get("properties")
    return props if isinstance(props, dict) else doc


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.){24,}"')


class JsonStringLines:
    """Line numbers of the long string values of a JSON file, so embedded policies can point into it."""

    def __init__(self, path: str):
        self.path = path
        # keyed by one int made of the hash and length of each string, not the string: a second copy of every
        # policy text of a 10,000-API template cost more memory than the audit itself (a 64-bit hash clash would
        # at worst misplace one line number)
        self._lines: dict[int, int] | None = None

    def line_of(self, value: str) -> int | None:
        if self._lines is None:
            self._lines = self._index()
        return self._lines.get(_string_key(value))

    def _index(self) -> dict[int, int]:
        """Read a block of whole lines at a time, never the whole file: a string value never spans lines (JSON
        escapes newlines), so every block yields the same matches as the whole text would."""
        lines: dict[int, int] = {}
        try:
            if not _has_newline(self.path):  # a one-line file (terraform show -json) has no useful lines
                return lines
            with open(self.path, encoding="utf-8-sig", errors="replace") as fh:
                line = 1
                while block := "".join(fh.readlines(_BLOCK_CHARS)):
                    at = 0  # counted on from the previous match: from the start each time was quadratic
                    for m in _JSON_STRING.finditer(block):
                        try:
                            decoded = json.loads(m.group(0))
                        except ValueError:
                            continue
                        line, at = line + block.count("\n", at, m.start()), m.start()
                        lines.setdefault(_string_key(decoded), line)
                    line += block.count("\n", at)
        except OSError:
            lines.clear()
        return lines


_BLOCK_CHARS = 1 << 22


def _string_key(value: str) -> int:
    return hash((hash(value), len(value)))


def _has_newline(path: str) -> bool:
    with open(path, "rb") as fh:
        return any(b"\n" in chunk or b"\r" in chunk for chunk in iter(lambda: fh.read(1 << 20), b""))


AUDITED_TYPES = ("/microsoft.apimanagement/service/", "/microsoft.cognitiveservices/accounts/")


def settings_about_audited(settings) -> bool:
    """Whether any of a file's diagnostic settings is attached to an APIM service or an AI account: a setting on a
    storage account or a key vault says nothing about the gateway's logging and must not switch the DG rules on."""
    return any(t in (s.resource_id.lower().rstrip("/") + "/") for s in settings for t in AUDITED_TYPES)


def declared_kinds(apim: bool, logging: bool, accounts: bool, settings: bool, roles: bool) -> frozenset[str]:
    """What an IaC file carries: only the kinds it declares, so a template without role assignments
    leaves the RB rules 'not evaluated' instead of passing them."""
    from ..estate import (
        CARRIES_ACCOUNTS,
        CARRIES_APIS,
        CARRIES_DIAGNOSTIC_SETTINGS,
        CARRIES_LOGGING,
        CARRIES_POLICIES,
        CARRIES_ROLES,
    )

    kinds = {CARRIES_POLICIES, CARRIES_APIS} if apim else set()
    for flag, kind in ((logging, CARRIES_LOGGING), (accounts, CARRIES_ACCOUNTS),
                       (settings, CARRIES_DIAGNOSTIC_SETTINGS), (roles, CARRIES_ROLES)):
        if flag:
            kinds.add(kind)
    return frozenset(kinds)

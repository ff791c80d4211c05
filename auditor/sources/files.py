"""Bounded, failure-tolerant file reading shared by the offline sources.

Every read returns a value or records a CollectionGap: one bad file never stops the audit.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any

from ..estate import CollectionGap
from ..json_input import describe
from ..policy.rawxml import MAX_POLICY_CHARS, read_policy
from ..policy.tree import Policy

MAX_JSON_BYTES = 256 * 1024 * 1024  # terraform state of a large tenant is big; beyond this it's not ours


def _real_dir(d: str, cache: dict[str, str]) -> str:
    """A folder with every link resolved; `cache` holds the folders resolved before, so each costs one lstat."""
    if d not in cache:
        parent, leaf = os.path.split(d)
        if not parent or parent == d or not leaf or os.path.islink(d):
            cache[d] = os.path.realpath(d)
        else:  # one lstat per folder: its parent is resolved already
            cache[d] = os.path.join(_real_dir(parent, cache), leaf)
    return cache[d]


def _outside_real(real: str, root: str, cache: dict[str, str]) -> bool:
    base = _real_dir(root, cache)
    return real != base and not real.startswith(base.rstrip(os.sep) + os.sep)


def outside(path: str, root: str, _dirs: dict[str, str] | None = None) -> bool:
    """Does path, with every symbolic link resolved, lie outside root (itself resolved)? `_dirs` caches the
    resolved folders, so a reader resolves each folder once and then only the file's own name."""
    cache = _dirs if _dirs is not None else {}
    head, name = os.path.split(path)
    real = os.path.realpath(path) if os.path.islink(path) else os.path.join(_real_dir(head, cache), name)
    return _outside_real(real, root, cache)


def link_gap(path: str) -> CollectionGap:
    """A link out of the scanned folder: not followed, and said so (AU001), so the gate cannot pass on it."""
    return CollectionGap("unreadable", path, "not read: a symbolic link that points outside the scanned folder "
                         "(links are never followed out of it; scan the target itself if it belongs to the estate)")


# O_NONBLOCK: should a FIFO take the place of a checked file, opening it returns at once instead of waiting
# for a writer, and fstat then refuses it. O_NOFOLLOW: a file seen as a plain file is not read through a link
# that replaced it since (POSIX open(2); both are 0 where the platform lacks them).
_OPEN = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_PLAIN, _LINKED = 1, 2  # what `is_file` found: a regular file, or a symbolic link to one


@dataclass
class Reader:
    """Reads files for one source and collects the gaps it met. With a `root`, nothing outside it is read:
    a symbolic link that leads out of the folder is a gap, not a read.

    Thousands of small files per estate: a read costs one lstat (`is_file`), open, fstat, read and close, with
    no Python file object; folders listed by a caller are known not to be links (`known_dir`)."""

    gaps: list[CollectionGap] = field(default_factory=list)
    root: str | None = None
    _real: dict[str, str] = field(default_factory=dict, repr=False)  # resolved folders, for `outside`
    _kinds: dict[str, int] = field(default_factory=dict, repr=False)  # files found and not yet read

    def gap(self, kind: str, target: str, message: str, line: int | None = None, resource: str = "") -> None:
        self.gaps.append(CollectionGap(kind=kind, target=target, message=message, line=line, resource=resource))

    def known_dir(self, parent: str, name: str, path: str) -> None:
        """`path` (parent/name) was listed as a folder, not a link (scandir's entry type): it resolves to its
        parent's real path and its own name, with no lstat of its own."""
        if self.root is not None and path not in self._real:
            self._real[path] = os.path.join(_real_dir(parent, self._real), name)

    def is_file(self, path: str) -> bool:
        """A regular file, or a link to one (never a FIFO, socket or device: opening those could block). What
        was found is kept until the file is read (one lstat per file, not two)."""
        if path in self._kinds:
            return True
        try:
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode):
                self._kinds[path] = _PLAIN
            elif stat.S_ISLNK(mode) and stat.S_ISREG(os.stat(path).st_mode):
                self._kinds[path] = _LINKED
            else:
                return False
        except (OSError, ValueError):  # absent, a dangling link, a name the platform refuses
            return False
        return True

    def read_bytes(self, path: str, limit: int) -> bytes | None:
        plain = self._kinds.pop(path, None) == _PLAIN  # lstat'ed just now: its folder decides where it lies
        if self.root is not None:
            if plain:  # a file in a folder lies where its folder does
                is_out = _outside_real(_real_dir(os.path.dirname(path), self._real), self.root, self._real)
            else:
                is_out = outside(path, self.root, self._real)
            if is_out:
                if not any(g.target == path for g in self.gaps):
                    self.gaps.append(link_gap(path))
                return None
        try:
            fd = os.open(path, (_OPEN | _NOFOLLOW) if plain else _OPEN)
        except OSError as exc:
            self.gap("unreadable", path, f"cannot read file: {exc.strerror or exc}")
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                self.gap("unreadable", path, "not read: not a regular file (a FIFO, socket or device could block)")
                return None
            size = st.st_size
            if size > limit:
                self.gap("unparseable", path, f"file is {size:,} bytes, over the {limit:,}-byte limit; skipped")
                return None
            # sized by fstat, one byte more to see growth: reading `limit` bytes would allocate them every time.
            # A regular file returns fewer bytes only at its end: read on only if that came before `size`.
            data = os.read(fd, size + 1)
            while len(data) < size:
                more = os.read(fd, size + 1 - len(data))
                if not more:
                    break
                data += more
        except OSError as exc:
            self.gap("unreadable", path, f"cannot read file: {exc.strerror or exc}")
            return None
        finally:
            os.close(fd)
        if len(data) > limit:
            self.gap("unparseable", path, f"file grew past the {limit:,}-byte limit while reading; skipped")
            return None
        return data

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
        except (ValueError, RecursionError) as exc:  # syntax, nesting, a number past Python's digit limit
            problem, line = describe(exc, text)
            self.gap("unparseable", path, problem, line)
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


# A JSON string of at least 24 characters (an escape counts as one). The look-ahead checks the 24, then the
# body is matched "unrolled" (runs of plain characters between escapes, one way only), which finds the same spans
# as `"(?:[^"\\\n]|\\.){24,}"` at about 1.5 times its speed and cannot backtrack exponentially.
_JSON_STRING = re.compile(r'"(?=(?:[^"\\\n]|\\.){24})[^"\\\n]*(?:\\.[^"\\\n]*)*"')


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

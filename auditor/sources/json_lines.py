"""Where each value of a JSON file is written, by its JSON path: the line of a resource's policy text is the line of
*that resource's* `value`, never the first string in the file that happens to read the same (two APIs with
byte-identical policies are two places to change).

The file is scanned once, lazily, a block of whole lines at a time (a JSON string never spans lines: RFC 8259
escapes control characters in strings), with the path of each value kept on a stack. Only what a finding can point
at is kept: the string values of the keys the reader asks for (`name`, a policy's `value`, `xml_content`). Paths are
kept as hashes, not tuples: at 10,000 APIs the paths would cost more than the lines.
"""

from __future__ import annotations

import json
import re

JsonPath = tuple[str | int, ...]
_BLOCK_CHARS = 1 << 22
_TOKEN = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|[{}\[\]:,]')


def _key(path: JsonPath) -> int:
    return hash(path)


class JsonPathLines:
    """Line numbers of the values of a JSON file, looked up by the path of each (keys and array indices)."""

    def __init__(self, path: str, keys: frozenset[str]):
        self.path = path
        self.keys = keys  # the string values kept: those of these keys
        self._lines: dict[int, int] | None = None

    def line_at(self, path: JsonPath) -> int | None:
        """The line the value at `path` starts on, or None (not in the file, a one-line file, or not kept)."""
        if self._lines is None:
            self._lines = self._index()
        return self._lines.get(_key(tuple(path)))

    def _index(self) -> dict[int, int]:
        lines: dict[int, int] = {}
        try:
            with open(self.path, encoding="utf-8-sig", errors="replace") as fh:
                head = fh.read(1 << 20)
                if "\n" not in head and len(head) < (1 << 20):  # one line: no line tells values apart
                    return lines
                fh.seek(0)
                _scan(fh, lines, self.keys)
        except (OSError, UnicodeError):
            lines.clear()
        return lines


def _scan(fh, lines: dict[int, int], wanted: frozenset[str]) -> None:
    """Walk the tokens, keeping the path: `keys[i]` is the key (object) or index (array) of depth i, `objects[i]`
    whether depth i is an object, `want_key` whether the next string in the innermost object is a key."""
    keys: list[str | int] = []
    objects: list[bool] = []
    want_key = False
    line = 1
    while block := "".join(fh.readlines(_BLOCK_CHARS)):
        at = 0
        for m in _TOKEN.finditer(block):
            tok = m.group(0)
            c = tok[0]
            if c == '"':
                if want_key:
                    keys[-1] = tok[1:-1] if "\\" not in tok else _decoded(tok)
                    want_key = False
                    continue
                if keys and keys[-1] in wanted:
                    line, at = line + block.count("\n", at, m.start()), m.start()
                    lines.setdefault(_key(tuple(keys)), line)
            elif c == "{":
                keys.append("")
                objects.append(True)
                want_key = True
            elif c == "[":
                keys.append(0)
                objects.append(False)
            elif c in "}]":
                if keys:
                    keys.pop()
                    objects.pop()
                want_key = False
            elif c == ",":
                if objects and objects[-1]:
                    want_key = True
                elif keys:
                    keys[-1] = keys[-1] + 1  # type: ignore[operator]
            # ":" : the value follows; nothing to keep
        line += block.count("\n", at)


def _decoded(tok: str) -> str:
    try:
        value = json.loads(tok)
    except ValueError:
        return tok[1:-1]
    return value if isinstance(value, str) else tok[1:-1]

"""Entry points of one group, read straight from the distributions installed on sys.path.

`importlib.metadata.entry_points(group=...)` costs about 35 ms at every start: importing it pulls in the
`email` package, and `ep.dist.name` parses a distribution's METADATA once per entry point. The pre-commit hook
runs the tool once per commit, so rules.py reads the same files here the way importlib.metadata does, in the
common layout (directories on sys.path holding `*.dist-info` / `*.egg-info` folders), and leaves anything else
to importlib.metadata: a zip or `.egg` on sys.path, or an import hook that supplies distributions of its own.

What is mirrored (CPython's Lib/importlib/metadata/__init__.py, 3.10-3.13): distributions are found in sys.path
order, within a folder in `os.listdir` order (FastPath/Lookup); a name seen before is skipped (`_unique`, by the
normalised name of the folder stem, PEP 503); `entry_points.txt` is read as `Sectioned` reads it (stripped
lines, `#` comments, `[group]` headers, `name = value`); the provider is the METADATA / PKG-INFO `Name`.
The file formats: PyPA "Entry points specification" and "Recording installed projects" (.dist-info).
tests/test_discovery.py compares the result with importlib.metadata's on this environment and planted ones.

How others keep this cheap: flake8 (src/flake8/plugins/finder.py) parses a distribution's metadata once, and
only when it has entry points of its groups; pytest lists its own plugins statically and discovers only
third-party ones through entry points. The built-in rules here stay entry points (the contract: one per rule,
registered like a third-party rule), so the cost is taken out of the reading instead; the importlib.metadata
fallback in rules.py parses each distribution's metadata once, as flake8 does.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from importlib import import_module

_INFO_SUFFIXES = (".dist-info", ".egg-info")
# EntryPoint.pattern of importlib.metadata: module, optional :attr, optional [extras]
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


@dataclass(frozen=True)
class EntryPoint:
    name: str
    value: str
    provider: str  # the distribution's Name ("?" where its metadata does not say)

    def load(self):
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"{self.value!r} is not an entry-point reference like package.module:attr")
        obj = import_module(match.group("module"))
        for attr in filter(None, (match.group("attr") or "").split(".")):
            obj = getattr(obj, attr)
        return obj


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def _group(text: str, group: str) -> list[tuple[str, str]]:
    pairs, section = [], None
    for line in map(str.strip, text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
        elif section == group:
            name, value = line.split("=", 1)  # as importlib.metadata's Pair.parse: no "=" is an error there too
            pairs.append((name.strip(), value.strip()))
    return pairs


def _provider(info: str) -> str:
    for name in ("METADATA", "PKG-INFO"):
        text = _read(os.path.join(info, name))
        if text is None:
            continue
        for line in text.split("\n\n", 1)[0].splitlines():  # the header block (RFC 822 style)
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() == "name":
                return value.strip() or "?"
        return "?"
    return "?"


def _plain_layout() -> bool:
    """Only folders on sys.path and only the standard path finder supplies distributions."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if getattr(finder, "find_distributions", None) is not None and finder is not PathFinder:
            return False
    for entry in sys.path:
        root = entry or "."
        if root.endswith(".egg") or (os.path.exists(root) and not os.path.isdir(root)):
            return False
    return True


def entry_points(group: str) -> list[EntryPoint] | None:
    """Every entry point of `group`, in discovery order; None where importlib.metadata must be asked."""
    if not _plain_layout():
        return None
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for entry in sys.path:
        root = entry or "."
        try:
            children = os.listdir(root)
        except OSError:
            continue
        for child in children:
            stem, ext = os.path.splitext(child)
            if ext.lower() not in _INFO_SUFFIXES:
                continue
            key = _normalise(stem.partition("-")[0])
            if key in seen:
                continue
            seen.add(key)
            info = os.path.join(root, child)
            text = _read(os.path.join(info, "entry_points.txt"))
            pairs = _group(text, group) if text and f"[{group}]" in text else []
            if pairs:
                provider = _provider(info)
                found.extend(EntryPoint(name, value, provider) for name, value in pairs)
    return found

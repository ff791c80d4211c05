"""`--baseline FILE`: the fingerprints of a previous JSON report, so the gate fails only on new findings.

A file of the wrong shape is one ConfigError naming the file and the key, never a traceback and never an
empty baseline by accident (an empty baseline would be harmless, a half-read one is not: fail loudly).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .config import ConfigError


class BaselineError(ConfigError):
    pass


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def load_baseline(path: str) -> frozenset[str]:
    """Fingerprints from a JSON report of an earlier run (`{"findings": [{"fingerprint": ...}]}`) or a list."""
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise BaselineError(f"{path}: baseline is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}:{exc.lineno}: baseline is not JSON: {exc.msg}") from None
    except (RecursionError, ValueError) as exc:  # nesting too deep, numbers too long
        from .json_input import describe, where

        problem, line = describe(exc, Path(path).read_bytes())
        raise BaselineError(f"{where(path, line)}: baseline is not usable JSON ({problem})") from None
    part = "findings"
    if isinstance(data, dict):
        if "findings" not in data:
            raise BaselineError(f"{path}: findings: missing (expected the JSON report of an earlier run)")
        items = data["findings"]
    else:
        items, part = data, "(top level)"
    if not isinstance(items, list):
        raise BaselineError(f"{path}: {part}: expected a list of findings, got {_kind(items)}")
    fingerprints = set()
    for i, item in enumerate(items):
        fingerprint = item.get("fingerprint") if isinstance(item, dict) else item
        if not isinstance(fingerprint, str) or not fingerprint.strip():
            key = f"{part}[{i}]" + (".fingerprint" if isinstance(item, dict) else "")
            raise BaselineError(f"{path}: {key}: expected a fingerprint string, got {_kind(fingerprint)}")
        fingerprints.add(fingerprint.strip())
    return frozenset(fingerprints)

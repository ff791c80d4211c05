"""Save what a collection read, and read it back, so a live audit can be repeated offline.

The snapshot is the estate itself, field for field, as JSON (gzip when the name ends in `.gz`). Policies
are stored as their redacted text with the secrets found at read time, and parsed again on load: the
same reader, so the same findings. Secret values are never in the estate, so never in a snapshot.
Schema: docs/snapshot.md. `schema_version` changes only when old snapshots could not be read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import types
import typing
import zlib
from functools import cache
from typing import Any

from . import __version__
from .estate import Estate
from .policy.rawxml import read_policy
from .policy.secrets import redact
from .policy.tree import ParseError, Policy, SecretHit

MARKER = "aoai_audit_snapshot"
SCHEMA_VERSION = 1
# After decompression, read in a bounded stream: a 900 KB gzip bomb must cost this much at most, never the
# gigabytes it expands to. A 10,000-API estate snapshots to a few tens of MB.
MAX_SNAPSHOT_BYTES = 128 * 1024**2
# JSON that is all brackets or commas (`[{},{},...]`) turns a few bytes into a Python object each: bound the
# count before parsing, so a file within the size limit still parses within a few hundred MB.
MAX_CONTAINERS = 2_000_000
MAX_RATIO = 400  # decompressed:compressed bytes beyond which a stream is not a snapshot
RATIO_FLOOR = 4 * 1024**2  # below this much output the ratio is not judged (small files compress well)
MAX_ITEMS = 16_000_000


class SnapshotError(Exception):
    """A snapshot that cannot be read: the message names the file and what is wrong."""


# ----------------------------------------------------------------------------------------- writing


def _policy_to_json(policy: Policy) -> dict[str, Any]:
    doc = policy.document
    return {
        "scope": policy.scope,
        "origin": _to_json(policy.origin),
        "format": policy.format,
        "text": redact(policy.text),  # redacted when read; once more through the same redactor on the way out
        "error": _to_json(policy.error),
        "secrets": [_to_json(s) for s in doc.secrets] if doc is not None else [],
    }


def _to_json(value: Any) -> Any:
    if isinstance(value, Policy):
        return _policy_to_json(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if f.default is not dataclasses.MISSING and v == f.default:
                continue  # defaults are implied: smaller files, and new optional fields stay compatible
            out[f.name] = _to_json(v)
        return out
    if isinstance(value, (tuple, list)):
        return [_to_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(_to_json(v) for v in value)
    return value


def snapshot_document(estate: Estate, collected_by: str | None = None) -> dict[str, Any]:
    return {
        MARKER: SCHEMA_VERSION,
        "tool": f"aoai-audit {__version__}",
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "collected_by": collected_by,
        "estate": _to_json(estate),
    }


def write_snapshot(estate: Estate, path: str, collected_by: str | None = None) -> None:
    data = json.dumps(snapshot_document(estate, collected_by), indent=1, sort_keys=False).encode("utf-8")
    if path.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as fh:
        fh.write(data)


# ----------------------------------------------------------------------------------------- reading


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _policy_from_json(raw: Any, where: str) -> Policy:
    if not isinstance(raw, dict) or not isinstance(raw.get("text", ""), str):
        raise SnapshotError(f"{where}: a policy must be an object with a text")
    origin = _from_json(_hints(Policy)["origin"], raw.get("origin", {}), f"{where}.origin")
    fmt = str(raw.get("format") or "rawxml")
    scope = str(raw.get("scope") or "")
    if raw.get("error"):
        error = _from_json(ParseError, raw["error"], f"{where}.error")
        return Policy(scope, origin, raw.get("text", ""), None, error, fmt)
    policy = read_policy(
        raw.get("text", ""),
        scope=scope,
        path=origin.path,
        resource_id=origin.resource_id,
        label=origin.scope,
        fmt=fmt,
        embedded_at=origin.line,
    )
    secrets = tuple(_from_json(SecretHit, s, f"{where}.secrets") for s in raw.get("secrets") or ())
    if policy.document is not None:
        policy = dataclasses.replace(policy, document=dataclasses.replace(policy.document, secrets=secrets))
    return policy


def _from_json(tp: Any, raw: Any, where: str) -> Any:
    """Rebuild a value of type `tp` from JSON, checking types as it goes."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return raw
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if raw is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _from_json(inner[0], raw, where)
    if tp is Policy:
        return _policy_from_json(raw, where)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(raw, dict):
            raise SnapshotError(f"{where}: expected an object for {tp.__name__}, found {type(raw).__name__}")
        hints = _hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in raw:
                kwargs[f.name] = _from_json(hints[f.name], raw[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SnapshotError(f"{where}: {tp.__name__} needs '{f.name}'")
        return tp(**kwargs)
    if origin in (tuple, frozenset, list):
        if not isinstance(raw, list):
            raise SnapshotError(f"{where}: expected a list, found {type(raw).__name__}")
        item = typing.get_args(tp)[0]
        items = [_from_json(item, v, f"{where}[{i}]") for i, v in enumerate(raw)]
        return frozenset(items) if origin is frozenset else tuple(items)
    if origin is dict:
        if not isinstance(raw, dict):
            raise SnapshotError(f"{where}: expected an object, found {type(raw).__name__}")
        return dict(raw)
    if tp is dt.date:
        try:
            return dt.date.fromisoformat(str(raw))
        except ValueError:
            raise SnapshotError(f"{where}: expected a date like 2026-11-01, found {raw!r}") from None
    if tp is float and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    if tp in (str, int, bool) and type(raw) is tp:
        return raw
    raise SnapshotError(f"{where}: expected {getattr(tp, '__name__', tp)}, found {type(raw).__name__}")


def _gunzip(data: bytes, path: str) -> bytes:
    """Decompress in a bounded stream, stopping as soon as the output passes MAX_SNAPSHOT_BYTES or grows past
    MAX_RATIO times the input read so far: snapshot JSON compresses 10:1 to 60:1 (a synthetic 2,000-API
    estate: 58:1), a gzip bomb 1000:1, so a bomb is refused after a few MB, not after decompressing the limit."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    pos, pending = 0, b""
    try:
        while not d.eof:
            if not pending:
                if pos >= len(data):
                    raise SnapshotError(f"{path}: not a readable gzip file (it ends before the end of the stream)")
                pending = data[pos:pos + 65536]
                pos += len(pending)
            out += d.decompress(pending, 1 << 20)
            pending = d.unconsumed_tail
            if len(out) > MAX_SNAPSHOT_BYTES:
                raise SnapshotError(f"{path}: decompresses to more than {MAX_SNAPSHOT_BYTES:,} bytes")
            if len(out) > RATIO_FLOOR and len(out) > MAX_RATIO * (pos - len(pending)):
                raise SnapshotError(f"{path}: compressed more than {MAX_RATIO}:1, which no snapshot is (a gzip "
                                    "bomb?); not expanded")
    except zlib.error as exc:
        raise SnapshotError(f"{path}: not a readable gzip file ({exc})") from None
    return bytes(out)


def load_snapshot_bytes(data: bytes, path: str) -> tuple[Estate, dict[str, Any]]:
    """Parse a snapshot; raises SnapshotError with a one-line message naming the file."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, path)
    containers = data.count(b"{") + data.count(b"[")
    if containers > MAX_CONTAINERS or data.count(b",") > MAX_ITEMS:
        raise SnapshotError(f"{path}: more than {MAX_CONTAINERS:,} objects or {MAX_ITEMS:,} items; not a snapshot "
                            "this tool wrote")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise SnapshotError(f"{path}{f':{line}' if line else ''}: not valid JSON ({exc.args[0]})") from None
    except (ValueError, RecursionError) as exc:  # syntax, nesting, a number past Python's digit limit
        from .json_input import describe, where

        problem, line = describe(exc, data)
        raise SnapshotError(f"{where(path, line)}: {problem}") from None
    if not isinstance(doc, dict) or MARKER not in doc:
        raise SnapshotError(f"{path}: not an aoai-audit snapshot (no '{MARKER}' key)")
    version = doc[MARKER]
    if version != SCHEMA_VERSION:
        raise SnapshotError(
            f"{path}: snapshot schema {version!r}; this aoai-audit reads schema {SCHEMA_VERSION} (upgrade the tool)"
        )
    estate = _from_json(Estate, doc.get("estate"), f"{path}: estate")
    return estate, doc

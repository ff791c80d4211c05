"""Streaming a `terraform show -json` document: only the parts the reader uses are built, never the rest."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from ..files import MAX_JSON_BYTES

# What the reader uses of a `terraform show -json` document, per the JSON Output Format
# (https://developer.hashicorp.com/terraform/internals/json-format): a plan's `planned_values` (or a state's
# `values`), a "values representation" of every resource, module by module, and the `configuration`
# representation, for the references of attributes unknown until apply. `resource_changes` (each resource again,
# with `before`/`after`), `prior_state` (the state before the plan, a third copy), `resource_drift`,
# `output_changes`, `variables`, `checks` and `relevant_attributes` are not read, so they are never built: a plan
# carries each resource two or three times, and building all of it cost three times the memory of what is read.
_READ_KEYS = frozenset({"format_version", "planned_values", "values", "configuration"})
# In `configuration`, only `expressions[...].references` is read: `constant_value` holds each attribute as written
# in the configuration (policy texts too, once more) and is not kept.
_CONFIG_SKIP = frozenset({"constant_value"})
_NOTHING: frozenset[str] = frozenset()
_HEAD = 4096


def stream_show_json(path: str) -> dict[str, Any] | None:
    """The parts of a `terraform show -json` document that the reader uses, read as a stream, or None when this file
    is not one that streams cleanly (not a Terraform document, invalid JSON, a BOM or UTF-16, over the size limit):
    the caller then reads it whole, as before, and reports what is wrong with it in the same words. Terraform writes
    `format_version` first, so a file that does not name it near the top is left to the whole-file reader too."""
    try:
        import ijson  # C backend (yajl2_c) in its wheels; BSD-3-Clause AND ISC
    except ImportError:
        return None
    try:
        if os.path.getsize(path) > MAX_JSON_BYTES:
            return None
        with open(path, "rb") as fh:
            if b'"format_version"' not in fh.read(_HEAD):
                return None
            fh.seek(0)
            events = ijson.basic_parse(fh, use_float=True)  # floats as json.load reads them, not Decimal
            event, _value = next(events)
            if event != "start_map":
                return None
            doc: dict[str, Any] = {}
            memo: dict[str, str] = {}
            for event, key in events:
                if event == "end_map":
                    break
                event, value = next(events)
                if key in _READ_KEYS:
                    skip = _CONFIG_SKIP if key == "configuration" else _NOTHING
                    doc[key] = _build(events, event, value, skip, memo)
                else:
                    _skip(events, event)
            for _extra in events:
                return None  # trailing content: not JSON; the whole-file reader says so
    except Exception:  # any failure to stream (invalid JSON, encoding, depth): read it whole instead
        return None
    if "format_version" in doc and ("planned_values" in doc or "values" in doc):
        return doc
    return None


_MEMO_CHARS = 256


def _build(events: Iterator[tuple[str, Any]], event: str, value: Any, skip: frozenset[str], memo: dict[str, str]) -> Any:
    """The value that starts with (event, value), leaving out members named in `skip`. Keys and short strings
    repeat in every resource (`api_management_name`, the service's name, its resource group): `memo` keeps one
    copy of each, as json.load does for keys."""
    if event == "start_map":
        obj: dict[str, Any] = {}
        for event, key in events:
            if event == "end_map":
                return obj
            key = memo.setdefault(key, key)
            event, value = next(events)
            if key in skip:
                _skip(events, event)
            else:
                obj[key] = _build(events, event, value, skip, memo)
        raise ValueError("unexpected end of JSON")
    if event == "start_array":
        arr: list[Any] = []
        for event, value in events:
            if event == "end_array":
                return arr
            arr.append(_build(events, event, value, skip, memo))
        raise ValueError("unexpected end of JSON")
    if event == "string" and len(value) < _MEMO_CHARS:
        return memo.setdefault(value, value)
    return value


def _skip(events: Iterator[tuple[str, Any]], event: str) -> None:
    if event not in ("start_map", "start_array"):
        return
    depth = 1
    for event, _value in events:
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
            if not depth:
                return
    raise ValueError("unexpected end of JSON")



"""Fuzz the config and baseline readers: whatever the file holds, the answer is settings that make sense or one
ConfigError line naming the file; never another exception, a NaN threshold or a datetime posing as a date.

40 examples per property by default; `AOAI_AUDIT_HYPOTHESIS=long` runs 10,000.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aoai_audit.baseline import load_baseline
from aoai_audit.config import KEYS, ConfigError, Settings, load_settings

LONG = os.environ.get("AOAI_AUDIT_HYPOTHESIS") == "long"
FUZZ = settings(max_examples=10_000 if LONG else 40, deadline=None, suppress_health_check=list(HealthCheck))

NAMES = st.sampled_from([*KEYS, "rule", "resource", "reason", "expires", "include", "exclude", "unknown_share",
                         "reconciliation", "findings", "fingerprint"]) | st.text(max_size=6)
SCALARS = (st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=12) | st.sampled_from(["high", "never", "TM001", "*", "2026-12-31", "2026-12-31 10:00"])
           | st.dates() | st.datetimes())
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
                      max_leaves=12)
CONFIGS = st.dictionaries(NAMES, VALUES, max_size=6) | VALUES


def _write(data: bytes) -> tuple[tempfile.TemporaryDirectory, str]:
    folder = tempfile.TemporaryDirectory()
    path = str(Path(folder.name) / "cfg.yaml")
    Path(path).write_bytes(data)
    return folder, path


def _check_config(data: bytes) -> None:
    folder, path = _write(data)
    with folder:
        try:
            s = load_settings(path)
        except ConfigError as exc:
            message = str(exc)
            assert message.startswith(path) and "\n" not in message, message
            return
    assert isinstance(s, Settings)
    for share in (s.unknown_share_threshold, s.reconciliation_threshold):
        assert math.isfinite(share) and 0 <= share <= 1
    for rule in s.suppressions:
        assert rule.reason.strip() and rule.rule and rule.resource
        assert rule.expires is None or (isinstance(rule.expires, dt.date) and not isinstance(rule.expires, dt.datetime))
    assert all(isinstance(r, str) for r in s.only + s.skip + s.llm_include + s.llm_exclude + s.attribution_headers)


@FUZZ
@given(CONFIGS)
def test_config_reader_on_generated_structures(config):
    _check_config(yaml.safe_dump(config, allow_unicode=True).encode("utf-8"))


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_config_reader_on_arbitrary_bytes(data):
    _check_config(data)


@FUZZ
@given(st.dictionaries(NAMES, VALUES, max_size=4) | VALUES
       | st.lists(st.fixed_dictionaries({"fingerprint": VALUES}), max_size=4).map(lambda f: {"findings": f}))
def test_baseline_reader_on_generated_structures(baseline):
    folder, path = _write(json.dumps(baseline, default=str).encode())
    with folder:
        try:
            fingerprints = load_baseline(path)
        except ConfigError as exc:
            assert str(exc).startswith(path) and "\n" not in str(exc), str(exc)
            return
    assert isinstance(fingerprints, frozenset) and all(isinstance(f, str) and f for f in fingerprints)

"""A finding's fingerprint is a contract with the user's baseline: `scan --baseline previous.json` fails the gate
only on findings whose fingerprint the previous report does not hold, and SARIF carries it as a partial
fingerprint (GitHub code scanning matches alerts across runs by it). A fingerprint that changes between versions
for the same finding turns every known gap into a "new" one and fails every gate that uses a baseline; one that
two findings share hides the second. So the fingerprints of every fixture estate are pinned (syrupy), and what
they must mean is asserted beside them: one per finding, the same on every run, and a baseline of a report
passes that report's gate."""

from __future__ import annotations

import json

import pytest

from aoai_audit.baseline import load_baseline
from aoai_audit.report.json_report import render_json
from conftest import EXAMPLE, FIXTURES, ROOT, RULE_FIXTURES, audit

ESTATES = sorted(p.relative_to(ROOT).as_posix() for p in RULE_FIXTURES.glob("*/*")
                 if p.name in ("fires", "passes") or p.suffix == ".json") + sorted(
    p.relative_to(ROOT).as_posix() for p in (FIXTURES / "real").iterdir() if p.is_dir() and p.name != "licences") + [
    (FIXTURES / "corpus").relative_to(ROOT).as_posix(), EXAMPLE.relative_to(ROOT).as_posix(),
    # the branches of a key no estate above reaches (tests/fixtures/fingerprints/make_key_estate.py)
    (FIXTURES / "fingerprints" / "keys.json").relative_to(ROOT).as_posix()]


def _pinned(result) -> list[str]:
    return sorted(f"{f.fingerprint} {f.rule_id} {f.resource} | {f.context} | {f.key}" for f in result.findings)


def test_the_estates_pinned_hold_findings_of_every_rule_that_keys_its_findings(registry):
    """The pin is worth something only where findings are: each rule that discriminates its findings by a key has
    some here (a rule added without a fixture that fires shows as missing)."""
    fired = {f.rule_id for e in ESTATES for f in audit(e, registry).findings if f.key}
    assert {"AU002", "DG002", "DG003", "DG004", "HD003", "SEC001", "ST001", "TM002", "TM003", "TM004", "TM005",
            "TM006", "TM007", "TM009", "TM010"} <= fired


@pytest.mark.parametrize("estate", ESTATES)
def test_fingerprints_are_one_per_finding_and_the_same_on_every_run(estate, registry):
    first, second = audit(estate, registry), audit(estate, registry)
    prints = [f.fingerprint for f in first.findings]
    assert len(set(prints)) == len(prints), [f"{f.rule_id} {f.resource} {f.key}" for f in first.findings
                                             if prints.count(f.fingerprint) > 1]
    assert all(len(p) == 16 and int(p, 16) >= 0 for p in prints)
    assert _pinned(first) == _pinned(second)


def test_a_report_used_as_its_own_baseline_leaves_no_new_finding(tmp_path, registry):
    """What --baseline reads back from a JSON report is exactly the fingerprints the audit gave, and with it as the
    baseline the same audit holds no new finding."""
    result = audit(EXAMPLE.relative_to(ROOT).as_posix(), registry)
    path = tmp_path / "report.json"
    path.write_text(render_json(result, registry), encoding="utf-8")
    known = load_baseline(str(path))
    assert len(known) == len(result.findings) == len(json.loads(path.read_text())["findings"]) > 20
    again = audit(EXAMPLE.relative_to(ROOT).as_posix(), registry)
    assert [f for f in again.findings if f.fingerprint not in known] == []


def test_fingerprints_are_those_earlier_versions_wrote(registry, snapshot):
    """Changing one is a baseline-breaking change: update this snapshot only on purpose, with a CHANGELOG line."""
    assert {e: _pinned(audit(e, registry)) for e in ESTATES} == snapshot

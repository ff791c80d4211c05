"""Plugin discovery read straight from the installed files (auditor/discovery.py) finds exactly what
importlib.metadata finds, and hands over to it where the layout is not plain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

from aoai_audit import discovery

# Runs in a fresh interpreter with the planted folders on PYTHONPATH: (fast, importlib.metadata) per group.
COMPARE = """
import json, sys
from importlib.metadata import entry_points
from aoai_audit import discovery
out = {}
for group in sys.argv[1:]:
    fast = discovery.entry_points(group)
    slow = [(ep.name, ep.value, (ep.dist.name if ep.dist else None) or "?") for ep in entry_points(group=group)]
    out[group] = [None if fast is None else sorted((e.name, e.value, e.provider) for e in fast), sorted(slow)]
print(json.dumps(out))
"""


def _compare(tmp_path, path: list, *groups: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path))}
    proc = subprocess.run([sys.executable, "-c", COMPARE, *groups], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _dist(folder, stem: str, metadata: str | None, entry_points: str | None, meta_name: str = "METADATA"):
    info = folder / stem
    info.mkdir(parents=True)
    if metadata is not None:
        (info / meta_name).write_text(metadata)
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)
    return info


def test_the_installed_environment_reads_the_same_both_ways(tmp_path):
    result = _compare(tmp_path, [], "aoai_audit.checks", "console_scripts", "pytest11")
    for group, (fast, slow) in result.items():
        assert fast == slow, group
    assert len(result["aoai_audit.checks"][0]) >= 33
    assert all(provider == "aoai-audit" for _n, _v, provider in result["aoai_audit.checks"][0])


def test_planted_distributions_read_the_same_both_ways(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(first, "acme_rules-1.0.dist-info", "Metadata-Version: 2.1\nName: Acme.Rules\nVersion: 1.0\n\nName: body\n",
          "# comment\n\n[console_scripts]\nacme = acme_rules:main\n\n[aoai_audit.checks]\n"
          "ACME001 = acme_rules\n  ACME002=acme_rules.more:check_two [extra]\n[other]\nx = y\n")
    _dist(first, "Old_Style.egg-info", "Metadata-Version: 1.1\nName: old-style\n", "[aoai_audit.checks]\nOLD001 = old\n",
          meta_name="PKG-INFO")
    _dist(first, "nameless-2.0.dist-info", None, "[aoai_audit.checks]\nNON001 = nameless\n")
    _dist(first, "unrelated-3.0.dist-info", "Name: unrelated\n", "[console_scripts]\nu = unrelated:main\n")
    (first / "single_file-1.0.egg-info").write_text("Metadata-Version: 1.1\nName: single-file\n")
    # the same distribution again further down the path: shadowed, as importlib.metadata shadows it
    _dist(second, "ACME.rules-0.9.dist-info", "Name: acme-rules-old\n", "[aoai_audit.checks]\nACME009 = stale\n")
    _dist(second, "later-1.0.dist-info", "Name: later\n", "[aoai_audit.checks]\nLAT001 = later:RULE_MODULE\n")
    result = _compare(tmp_path, [first, tmp_path / "missing", second], "aoai_audit.checks", "console_scripts", "other")
    for group, (fast, slow) in result.items():
        assert fast == slow, group
    planted = {(n, p) for n, _v, p in result["aoai_audit.checks"][0] if p != "aoai-audit"}
    assert planted == {("ACME001", "Acme.Rules"), ("ACME002", "Acme.Rules"), ("OLD001", "old-style"),
                       ("NON001", "?"), ("LAT001", "later")}


def test_a_zip_on_the_path_is_left_to_importlib_metadata_which_still_finds_its_plugin(tmp_path):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("acme_rules-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: acme-rules\nVersion: 1.0\n")
        zf.writestr("acme_rules-1.0.dist-info/entry_points.txt", "[aoai_audit.checks]\nACME001 = acme_rules\n")
        zf.writestr("acme_rules.py", "from aoai_audit.rules import Rule\nfrom aoai_audit.findings import Severity\n"
                    "RULE = Rule(id='ACME001', title='t', severity=Severity.LOW, rationale='r', detection='d', fix='f')\n"
                    "def check(ctx):\n    return ()\n")
    (fast, slow), = _compare(tmp_path, [archive], "aoai_audit.checks").values()
    assert fast is None and ("ACME001", "acme_rules", "acme-rules") in map(tuple, slow)
    env = {**os.environ, "PYTHONPATH": str(archive)}
    proc = subprocess.run([sys.executable, "-m", "aoai_audit", "rules"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 0 and "ACME001" in proc.stdout and "[acme-rules]" in proc.stdout, proc.stderr


def test_an_entry_point_loads_module_and_attribute_as_importlib_metadata_does():
    assert discovery.EntryPoint("X", "aoai_audit.discovery", "p").load() is discovery
    assert discovery.EntryPoint("X", "aoai_audit.discovery:EntryPoint.load", "p").load() is discovery.EntryPoint.load
    for bad in ("not a reference!", "aoai_audit.no_such_module"):
        try:
            discovery.EntryPoint("X", bad, "p").load()
        except (ValueError, ImportError):
            continue
        raise AssertionError(bad)

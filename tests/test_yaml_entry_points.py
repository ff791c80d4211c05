"""Every YAML the tool reads goes through the one bounded reader (auditor/bounded_yaml.py).

The entry points are found by reading the code, not listed by hand: any other use of PyYAML's loaders fails
the first test, and each entry point found is fed an alias bomb through the option or file that reaches it.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import EXAMPLE, ROOT
from hostile_cases import YAML_BOMB

# PyYAML's ways in: any of these outside bounded_yaml.py reads YAML without the node bound.
_RAW_LOADERS = re.compile(r"\byaml\.(?:safe_load|load|full_load|unsafe_load|load_all|safe_load_all|compose|"
                          r"compose_all|SafeLoader|Loader|FullLoader|UnsafeLoader|CSafeLoader|CLoader)\b")
_BOUNDED = re.compile(r"\b(?:load_yaml|loader_class|read_yaml)\(")
# Each module that reads YAML (through the bounded reader), with how a user reaches it.
ENTRY_POINTS = {
    "config.py": ("--config", "aoai-audit.yaml"),  # read_yaml: the tool's config and the extractor config
    "prices.py": ("--prices", "prices.yaml"),
    "costcentres.py": ("--cost-centres", "cost-centres.yaml"),
    "spec.py": (None, "apis/weather/specification.yaml"),  # an API definition in an APIOps tree
    "apiops_layout.py": (None, "configuration.extractor.yaml"),  # read_yaml
}
BOMB_HEAD = YAML_BOMB.split("paths:")[0]
BOMBS = {
    "--config": BOMB_HEAD + "fail_on: *i\n",
    "--prices": BOMB_HEAD + "prices:\n  - model: *i\n    input: 1\n    output: 1\n",
    "--cost-centres": BOMB_HEAD + "cost_centres:\n  - consumer: *i\n    cost_centre: CC-1\n",
}


def _sources():
    for folder in ("auditor", "checks"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_no_yaml_is_read_around_the_bounded_reader():
    raw = [f"{p.relative_to(ROOT)}:{n}" for p in _sources() if p.name != "bounded_yaml.py"
           for n, line in enumerate(p.read_text().splitlines(), 1) if _RAW_LOADERS.search(line)]
    assert raw == []


def test_every_yaml_entry_point_is_listed():
    readers = {p.name for p in _sources() if p.name != "bounded_yaml.py" and _BOUNDED.search(p.read_text())}
    assert readers == set(ENTRY_POINTS)


@pytest.mark.parametrize("option", sorted(BOMBS))
def test_an_alias_bomb_in_each_option_is_one_line_naming_the_file(tmp_path, option):
    path = tmp_path / ENTRY_POINTS[{"--config": "config.py", "--prices": "prices.py",
                                    "--cost-centres": "costcentres.py"}[option]][1]
    path.write_text(BOMBS[option])
    proc = subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", str(EXAMPLE), "--format", "json",
                           option, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and not proc.stdout and len(lines) == 1, proc.stderr[-2000:]
    assert str(path) in lines[0] and "alias" in lines[0]

"""Hostile and broken APIOps trees: each case is a finding or a one-line error naming the file, never a crash."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from conftest import EXAMPLE, ROOT


def scan(path, *args):
    return subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", str(path), "--format", "json", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_broken_tree_is_audited_around_its_damage(tmp_path):
    tree = tmp_path / "apim"
    shutil.copytree(EXAMPLE, tree)
    apis = tree / "apis"
    (apis / "orders" / "apiInformation.json").write_text('{"properties": {"displayName": "Orders", "path": ')  # truncated
    (apis / "weather" / "apiInformation.json").write_text('{"properties": ["not", "an", "object"]}')  # wrong type
    rev = apis / "chat-completions;rev=2"  # a revision, with the extractor's name
    rev.mkdir()
    (rev / "apiInformation.json").write_text(json.dumps({"properties": {"displayName": "Chat r2", "apiRevision": "2",
                                                                          "isCurrent": False, "serviceUrl": "https://x.openai.azure.com/openai"}}))
    (rev / "policy.xml").write_bytes(b"\xff\xfe<\x00p\x00")  # truncated UTF-16 garbage
    spaced = apis / "name with spaces"
    spaced.mkdir()
    (spaced / "policy.xml").write_text("<policies><inbound><base /></inbound>")  # unclosed
    os.symlink(tree, apis / "loop")  # a symlink back to the root
    odd = os.fsencode(str(apis)) + b"/caf\xe9"  # a non-UTF-8 file name
    os.mkdir(odd)
    with open(odd + b"/policy.xml", "wb") as fh:
        fh.write(b"\x00\x01\x02 binary")
    proc = scan(tree)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(proc.stdout)
    au002 = [f for f in doc["findings"] if f["rule_id"] == "AU002"]
    where = " ".join((f["location"]["path"] or "") + " " + f["message"] for f in au002)
    assert "orders/apiInformation.json" in where and "invalid JSON" in where
    assert "name with spaces/policy.xml" in where
    assert "chat-completions;rev=2/policy.xml" in where
    # the rest is audited: the well-built API is still there and its siblings' findings too
    assert any(f["rule_id"] == "TM001" for f in doc["findings"])
    assert all("\n" not in f["message"] for f in au002)


def test_huge_policy_is_bounded(tmp_path):
    tree = tmp_path / "apim"
    shutil.copytree(EXAMPLE, tree)
    big = tree / "apis" / "weather" / "policy.xml"
    with open(big, "w") as fh:
        fh.write("<policies><inbound>")
        fh.write("<set-header name=\"x\" exists-action=\"override\"><value>v</value></set-header>" * 700_000)  # ~50 MB
        fh.write("</inbound></policies>")
    proc = scan(tree)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    assert any(f["rule_id"] == "AU002" and "weather" in (f["location"]["path"] or "") for f in doc["findings"])

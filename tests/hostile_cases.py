"""Hostile and broken inputs, each built in a temporary directory. Every one must end as a finding or a
one-line error naming the file, in bounded time and memory, with the rest of the audit going on.

Shared by tests/test_hostile_inputs.py and scripts/hostile_table.py (the table for a closing note).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import EXAMPLE

POLICY = "apis/weather/policy.xml"  # the victim file inside a copy of the example tree


@dataclass(frozen=True)
class Hostile:
    name: str
    build: Callable[[Path], Any]  # writes the input under a temp dir, returns what to scan (see `built`)
    expect: str  # "AU002" / "AU001": a finding of that rule naming `where` (the gate fails: exit 1, or 2 when
    # nothing else was read); "clean": read without AU002; "usage": exit 2 with one line naming `where`;
    # "source": read without AU002, as a source whose location holds `where`
    where: str = ""
    secret: str = ""  # text the input holds that must appear in no output


def built(case: Hostile, tmp: Path) -> tuple[list[str], dict[str, str] | None]:
    """The scan's arguments (what to scan, then its options) and its environment (None: this process's). A build
    returns a path, (path, options), or (None, options, environment) for a live scan of a fake ARM."""
    out = case.build(tmp)
    if not isinstance(out, tuple):
        return [str(out)], None
    target, options, *env = out
    return ([str(target)] if target is not None else []) + list(options), ({**os.environ, **env[0]} if env else None)


# Runs the CLI in this process, then prints its own peak RSS (VmHWM: per process image, unlike ru_maxrss, which
# Linux carries over from the parent across fork and exec). Used by the test and by scripts/hostile_table.py.
MEASURED = """
import re, runpy, sys
sys.argv = ["aoai-audit", *sys.argv[1:]]
try:
    runpy.run_module("aoai_audit.cli", run_name="__main__")
finally:
    hwm = re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read())
    print("PEAK_RSS_KB=%s" % (hwm.group(1) if hwm else 0), file=sys.stderr)
"""


def _tree(tmp: Path) -> Path:
    tree = tmp / "apim"
    shutil.copytree(EXAMPLE, tree)
    return tree


def _policy(text: str | bytes) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        tree = _tree(tmp)
        target = tree / POLICY
        target.write_bytes(text if isinstance(text, bytes) else text.encode())
        return tree
    return build


def _file(rel: str, data: str | bytes) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        tree = _tree(tmp)
        target = tree / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else data.encode())
        return tree
    return build


def _single(name: str, data: str | bytes) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        target = tmp / name
        target.write_bytes(data if isinstance(data, bytes) else data.encode())
        return target
    return build


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + ']><policies><inbound>&lol9;</inbound></policies>')
QUADRATIC = ('<!DOCTYPE q [<!ENTITY a "' + "x" * 100_000 + '">]><policies><inbound>' + "&a;" * 10_000
             + "</inbound></policies>")
GOOD = ('<policies><inbound><base /><set-header name="x-team-id" exists-action="skip">'
        '<value>@(context.Request.Headers.GetValueOrDefault("x-team-id", "none"))</value></set-header>'
        "</inbound></policies>")


def _symlink_loop(tmp: Path) -> Path:
    tree = _tree(tmp)
    os.symlink(tree, tree / "apis" / "loop")
    os.symlink(tree / "apis" / "self", tree / "apis" / "self")
    return tree


def _fifo(tmp: Path) -> Path:
    tree = _tree(tmp)
    (tree / POLICY).unlink(missing_ok=True)
    os.mkfifo(tree / POLICY)  # reading it would block forever
    return tree


def _directory_named_like_a_file(tmp: Path) -> Path:
    tree = _tree(tmp)
    (tree / "apis" / "orders" / "apiInformation.json").unlink()
    (tree / "apis" / "orders" / "apiInformation.json").mkdir()
    return tree


def _odd_names(tmp: Path) -> Path:
    tree = _tree(tmp)
    for name in ("name with spaces", "chat;rev=2", "ünïcödé", "-rf", "$(touch pwned)"):
        d = tree / "apis" / name
        d.mkdir()
        (d / "policy.xml").write_text(GOOD)
    raw = os.fsencode(str(tree / "apis")) + b"/caf\xe9"
    os.mkdir(raw)
    with open(raw + b"/policy.xml", "wb") as fh:
        fh.write(GOOD.encode())
    return tree


def _huge(tmp: Path) -> Path:
    tree = _tree(tmp)
    with open(tree / POLICY, "w") as fh:
        fh.write("<policies><inbound>")
        fh.write('<set-header name="x" exists-action="override"><value>v</value></set-header>' * 700_000)
        fh.write("</inbound></policies>")
    return tree


def _deep(tmp: Path) -> Path:
    return _policy("<policies><inbound>" + "<choose><when condition=\"@(true)\">" * 10_000
                   + "</when></choose>" * 10_000 + "</inbound></policies>")(tmp)


def _fragments(levels: int, per_level: int) -> Callable[[Path], Path]:
    """Fragment i includes fragment i+1 `per_level` times: naive expansion is per_level ** levels elements."""
    def build(tmp: Path) -> Path:
        tree = _tree(tmp)
        for i in range(levels):
            body = (f'<include-fragment fragment-id="f{i + 1}" />' * per_level if i + 1 < levels
                    else '<set-header name="x-team-id" exists-action="skip"><value>t</value></set-header>')
            folder = tree / "policy fragments" / f"f{i}"
            folder.mkdir(parents=True)
            (folder / "policy.xml").write_text(f"<fragment>{body}</fragment>")
        (tree / POLICY).write_text('<policies><inbound><base /><include-fragment fragment-id="f0" /></inbound>'
                                   "</policies>")
        return tree
    return build


YAML_BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
             + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
             + "paths:\n  /x:\n    get:\n      operationId: x\n      summary: *i\n")


def _gzip_bomb(head: bytes, gigabytes: float = 5.5) -> bytes:
    """A gzip stream of `head` then `gigabytes` of "a", built in a blink: after a full flush deflate starts
    afresh, so every 1 MiB block compresses to the same bytes and is repeated rather than recompressed. The
    trailer is left off (no reader may get that far)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    chunk = b"a" * 2**20
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    return first + block * int(gigabytes * 1024)


def _bomb_in_folder(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    shutil.copytree(EXAMPLE, repo / "apim")
    (repo / "backup.json.gz").write_bytes(_gzip_bomb(b""))
    return repo


OUTSIDE_SECRET = "Z2l0LWNyZWRlbnRpYWwtdGhhdC1tdXN0LW5vdC1sZWFr"


def _linked_policy(tmp: Path) -> Path:
    tree = _tree(tmp)
    outside = tmp / "home" / ".gitconfig"
    outside.parent.mkdir()
    outside.write_text(f'[http]\n\textraheader = "AUTHORIZATION: basic {OUTSIDE_SECRET}"\n<policies/>\n')
    (tree / POLICY).unlink(missing_ok=True)
    os.symlink(outside, tree / POLICY)
    return tree


def _linked_folder(tmp: Path) -> Path:
    tree = _tree(tmp)
    outside = tmp / "elsewhere" / "evil"
    outside.mkdir(parents=True)
    (outside / "policy.xml").write_text(f'<policies><inbound><set-header name="x" exists-action="override"><value>'
                                        f"{OUTSIDE_SECRET}</value></set-header></inbound></policies>")
    os.symlink(outside, tree / "apis" / "evil")
    return tree


def _unrelated_xml(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    shutil.copytree(EXAMPLE, repo / "apim")
    (repo / "build.xml").write_text(f'<project name="x"><property name="password" value="{OUTSIDE_SECRET}"/>\n'
                                    "<target name=\"broken\"></project>")
    (repo / "settings.json").write_text(json.dumps({"$schema": "https://json.schemastore.org/x", "resources": [],
                                                    "token": OUTSIDE_SECRET}))
    return repo


ARM_BASE = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0"}


def cases() -> list[Hostile]:
    svc = "Microsoft.ApiManagement/service"
    return [
        Hostile("XXE, file entity", _policy('<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                            "<policies><inbound>&x;</inbound></policies>"), "AU002", POLICY),
        Hostile("XXE, URL entity", _policy('<!DOCTYPE p [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>'
                                           "<policies><inbound>&x;</inbound></policies>"), "AU002", POLICY),
        Hostile("billion laughs", _policy(LAUGHS), "AU002", POLICY),
        Hostile("quadratic blow-up (100 KB entity × 10,000)", _policy(QUADRATIC), "AU002", POLICY),
        Hostile("10,000-deep nesting", _deep, "AU002", POLICY),
        Hostile("50 MB policy", _huge, "AU002", POLICY),
        Hostile("binary garbage", _policy(os.urandom(4096)), "AU002", POLICY),
        Hostile("NUL bytes in a policy", _policy(b"<policies>\x00<inbound/></policies>"), "AU002", POLICY),
        Hostile("UTF-8 BOM", _policy(b"\xef\xbb\xbf" + GOOD.encode()), "clean"),
        Hostile("UTF-16 with BOM", _policy(GOOD.encode("utf-16")), "clean"),
        Hostile("CRLF line ends", _policy(GOOD.replace("><", ">\r\n<")), "clean"),
        Hostile("Latin-1 bytes (not UTF-8)", _policy(GOOD.replace("none", "n\xe9ant").encode("latin-1")), "AU002", POLICY),
        Hostile("empty policy file", _policy(b""), "AU002", POLICY),
        Hostile("unclosed element", _policy("<policies><inbound><base />"), "AU002", POLICY),
        Hostile("truncated JSON", _file("apis/orders/apiInformation.json", '{"properties": {"displayName": '),
                "AU002", "apis/orders/apiInformation.json"),
        Hostile("JSON of the wrong shape", _file("apis/orders/apiInformation.json", '["not", "an", "object"]'),
                "AU002", "apis/orders/apiInformation.json"),
        Hostile("properties as a string", _file("products/team-research/productInformation.json",
                                                '{"properties": "nope"}'), "AU002", "productInformation.json"),
        Hostile("symlink loops", _symlink_loop, "clean"),
        Hostile("a FIFO named policy.xml", _fifo, "clean"),
        Hostile("a directory named apiInformation.json", _directory_named_like_a_file, "clean"),
        Hostile("odd names (spaces, ;rev=2, unicode, -rf, $(...), non-UTF-8)", _odd_names, "clean"),
        Hostile("ARM: resources is an object", _single("arm.json", json.dumps({**ARM_BASE, "resources": {"a": 1}})),
                "AU002", "arm.json"),
        Hostile("ARM: properties and policy value of wrong types", _single("arm2.json", json.dumps({**ARM_BASE, "resources": [
            {"type": svc, "name": "apim", "apiVersion": "2024-05-01", "properties": "x"},
            {"type": f"{svc}/apis", "name": "apim/chat", "apiVersion": "2024-05-01", "properties": ["x"]},
            {"type": f"{svc}/apis/policies", "name": "apim/chat/policy", "apiVersion": "2024-05-01",
             "properties": {"format": "rawxml", "value": 42}}]})), "AU002", "expected an object"),
        Hostile("Terraform plan with wrong types", _single("plan.json", json.dumps({
            "format_version": "1.2", "planned_values": {"root_module": {"resources": {"oops": True}}}})), "AU002", "plan.json"),
        Hostile("truncated gzip snapshot", _single("snap.json.gz", gzip.compress(b'{"aoai_audit_snapshot": 1}')[:20]),
                "AU002", "snap.json.gz"),
        Hostile("snapshot of a newer schema", _single("snap.json", json.dumps({"aoai_audit_snapshot": 99, "estate": {}})),
                "AU002", "snap.json"),
        Hostile("JSON nested 100,000 deep", _single("deep.json", "[" * 100_000 + "]" * 100_000), "AU002", "deep.json"),
        Hostile("fragments including the next twice, 25 levels (2^25 elements naively)", _fragments(25, 2), "AU002",
                "levels deep"),
        Hostile("fragments including the next twice, 30 levels", _fragments(30, 2), "AU002", "levels deep"),
        Hostile("a chain of 800 fragment includes", _fragments(800, 1), "AU002", "levels deep"),
        Hostile("fragments including the next four times, 14 levels (4^14 elements naively)", _fragments(14, 4),
                "AU002", "expands to more than"),
        Hostile("YAML alias bomb in specification.yaml (400 bytes, 10^9 nodes)",
                _file("apis/weather/specification.yaml", YAML_BOMB), "AU002", "specification.yaml"),
        Hostile("YAML nested 50,000 deep in specification.yaml", _file("apis/weather/specification.yaml",
                                                                        "a: " + "[" * 50_000 + "]" * 50_000), "AU002",
                "specification.yaml"),
        Hostile("YAML alias bomb in configuration.extractor.yaml", _file("configuration.extractor.yaml", YAML_BOMB),
                "clean"),
        Hostile("gzip bomb behind the snapshot marker (5.5 GB of 'a' in 6 MB)",
                _single("snap.json.gz", _gzip_bomb(b'{"aoai_audit_snapshot": 1, "pad": "')), "AU002", "snap.json.gz"),
        Hostile("gzip bomb without a marker in a scanned folder", _bomb_in_folder, "clean"),
        Hostile("gzip snapshot nested 100,000 deep", _single("deep.json.gz", gzip.compress(
            b'{"aoai_audit_snapshot": 1, "estate": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")), "AU002", "deep.json.gz"),
        Hostile("policy.xml symlinked to a file outside the folder", _linked_policy, "AU001", POLICY, OUTSIDE_SECRET),
        Hostile("a folder symlinked outside the folder", _linked_folder, "AU001", "apis/evil", OUTSIDE_SECRET),
        Hostile("an unrelated build.xml and settings.json holding a password (`scan .`)", _unrelated_xml, "clean",
                secret=OUTSIDE_SECRET),
    ]

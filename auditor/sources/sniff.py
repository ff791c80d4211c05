"""Is a file met while walking a folder one of the tool's inputs? Decided the way the readers read it.

A walk must not skip what the readers would read: a template saved as UTF-16 (what Windows PowerShell's `>`
writes) has no byte sequence `"resources"`, and a template's `$schema` can come after a large `metadata`
block, past any fixed head. The text is therefore decoded as the readers decode it (a BOM, else UTF-8, else
UTF-16) and searched to the end, in chunks, up to the readers' size limit.
"""

from __future__ import annotations

import codecs
import re

from .files import MAX_JSON_BYTES

CHUNK = 1 << 20
JSON_MARKERS = ("deploymentTemplate", '"format_version"', '"aoai_audit_snapshot"', "Microsoft.ApiManagement",
                '"resources"')
_LONGEST = max(len(m) for m in JSON_MARKERS)
# APIOps' own files: read by the APIOps reader, never templates (skipped without opening them)
_APIOPS_JSON = ("information.json",)
_APIOPS_NAMES = frozenset({"specification.json", "apis.json", "groups.json", "tags.json", "products.json",
                           "gateways.json"})
_SPACE = re.compile(r"\s*")
_ROOT_NAMES = ("<policies", "<fragment")


def encoding_of(head: bytes) -> str:
    """The encoding the readers would use (files.Reader.read_json, rawxml.decode): a BOM, else UTF-8 when the
    head is UTF-8, else UTF-16."""
    if head[:3] == codecs.BOM_UTF8:
        return "utf-8-sig"
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the head
            return "utf-16"
    return "utf-8"


def is_apiops_file(name: str) -> bool:
    low = name.lower()
    return low.endswith(_APIOPS_JSON) or low in _APIOPS_NAMES


def json_has_marker(path: str) -> bool:
    """Does the file, decoded as the readers decode it, name a template, plan or snapshot anywhere in its first
    MAX_JSON_BYTES? (OSError propagates: the caller lets the reader report it.)"""
    with open(path, "rb") as fh:
        first = fh.read(CHUNK)
        decoder = codecs.getincrementaldecoder(encoding_of(first[:4096]))(errors="ignore")
        tail, data, seen = "", first, 0
        while data:
            text = tail + decoder.decode(data)
            if any(m in text for m in JSON_MARKERS):
                return True
            tail = text[-_LONGEST:]
            seen += len(data)
            if seen >= MAX_JSON_BYTES:
                return False
            data = fh.read(CHUNK)
    return False


def policy_root(text: str) -> bool:
    """Does the document's root element come first, after an XML declaration and comments? A scanner, not a
    regex: `(?:<!--.*?-->\\s*)*` backtracked exponentially over a build file's 40 leading comments."""
    i = _SPACE.match(text).end()  # type: ignore[union-attr]
    if text.startswith("<?xml", i):
        i = text.find("?>", i)
        if i < 0:
            return False
        i += 2
    while True:
        i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
        if not text.startswith("<!--", i):
            break
        i = text.find("-->", i + 4)
        if i < 0:
            return False
        i += 3
    for name in _ROOT_NAMES:
        if text.startswith(name, i):
            after = text[i + len(name):i + len(name) + 1]
            return after in (">", "/") or (after != "" and after.isspace())
    return False


def xml_is_policy(head: bytes) -> bool:
    """A policy by its root element, the head decoded as the policy reader decodes it."""
    return policy_root(head.decode(encoding_of(head[:4096]), errors="ignore").lstrip("\ufeff"))

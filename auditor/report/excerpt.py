"""Policy excerpts for the HTML report: the lines around a finding, numbered, with the finding's line marked.

The indentation every shown line shares is dropped, so the code starts at the left edge of its box on a phone
and on paper instead of behind a margin of whitespace; the lines keep their indentation relative to each other.
"""

from __future__ import annotations

from typing import Any

from ..engine import AuditResult
from ..policy.secrets import redact

EXCERPT_CONTEXT = 3


def policy_lines(result: AuditResult) -> dict[str, list[str]]:
    """Policy text by file path, for policies that are whole files (not strings inside JSON). The text was
    redacted when read; each shown line passes the same redactor again (`excerpt`)."""
    out: dict[str, list[str]] = {}
    for _resource, policy in result.ctx.policies():
        origin = policy.origin
        if origin.path and origin.line is None and policy.text:
            out.setdefault(origin.path, policy.text.splitlines())
    return out


def _shared_indent(lines: list[str]) -> str:
    """The leading whitespace every non-blank line starts with, character for character (tabs and spaces are
    not equated: only what all lines literally share is dropped)."""
    indents = [line[: len(line) - len(line.lstrip())] for line in lines if line.strip()]
    if not indents:
        return ""
    shared = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(shared):
            shared = shared[:-1]
    return shared


def excerpt(lines: list[str] | None, line: int | None) -> list[dict[str, Any]]:
    if not lines or not line or line > len(lines):
        return []
    start, end = max(1, line - EXCERPT_CONTEXT), min(len(lines), line + EXCERPT_CONTEXT)
    shown = [redact(lines[n - 1]) for n in range(start, end + 1)]
    cut = len(_shared_indent(shown))
    return [{"n": n, "text": text[cut:] if text.strip() else "", "hit": n == line}
            for n, text in enumerate(shown, start)]

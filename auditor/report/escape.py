"""Text from the estate (API names, consumer values, paths, messages) made inert for each output.

Names come from whoever can edit an APIM instance or a usage export: a display name can hold terminal
escape sequences, Markdown that GitHub renders as an image calling home, or a character that XML 1.0
forbids. Every renderer passes data through one of these before writing it.
"""

from __future__ import annotations

import re

# C0 controls (tab and newline included: a name has no business breaking a line), DEL, C1 controls (0x9b is
# an 8-bit CSI), the bidirectional overrides and isolates ("Trojan Source", CVE-2021-42574) and the
# non-characters XML 1.0 forbids.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


def _shown(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(text: str, keep: str = "") -> str:
    """Control characters shown as `\\x1b`-style escapes (so they are seen, never acted on); `keep`: let these
    through (a report's own line breaks)."""
    if keep:
        return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _shown(m), text)
    return _CONTROL.sub(_shown, text)


# CommonMark: an ASCII punctuation character after a backslash is literal text
# (https://spec.commonmark.org/0.31.2/#backslash-escapes). Escaped here: what opens emphasis or strikethrough
# (`*_~`), links and images (`[]!`), code spans (`` ` ``), raw HTML and autolinks (`<>`), entities (`&`), table
# cells (`|`, https://github.github.com/gfm/#tables-extension-), math (`$`), headings (`#`), and what starts
# GFM's extended autolinks: `scheme:` and `www.` (https://github.github.com/gfm/#autolinks-extension-).
_MD_PUNCT = re.compile(r"([\\`*_~\[\]!<>&|#$:()])")
_WWW = re.compile(r"(?i)(www)\.")
_LEADING = re.compile(r"^(?:([-+=])|([0-9]+)\.)")  # list and setext markers count only at a line's start
_ZWSP = "\u200b"


def md_text(text: str) -> str:
    """Literal text inside a Markdown paragraph or table cell, as GitHub renders it: no link, image, HTML,
    emphasis, code-span break-out, line break or cell break; no @mention or e-mail autolink either.

    GitHub finds @mentions and e-mail addresses in the rendered text, after escapes are undone, so `@` is
    followed by a zero-width space: the mention pattern needs a name character right after it."""
    text = " ".join(visible(text, keep="\t\n\r").split())
    text = _WWW.sub(r"\1\\.", _MD_PUNCT.sub(r"\\\1", text))
    text = _LEADING.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\.", text)
    return text.replace("@", "@" + _ZWSP)

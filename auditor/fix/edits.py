"""Text-preserving edits: each one replaces one span of a file's raw text; every other byte stays as written.

Statements are inserted on lines of their own, in the indentation of their new siblings and with the file's
newline (CRLF stays CRLF); an element written on one line with its content gets the statement inline.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from .rawtext import RawDocument, RawElement


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] of the file at `path` with `insert`."""

    path: str
    start: int
    end: int
    insert: str


class EditConflict(ValueError):
    """Two edits of one file overlap: the plan is wrong, nothing is applied."""


def apply_edits(text: str, edits: list[Edit]) -> str:
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for a, b in pairwise(ordered):
        if b.start < a.end or (a.start == a.end == b.start == b.end and a.insert == b.insert):
            raise EditConflict(f"overlapping edits at offset {b.start}")
    out, at = [], 0
    for e in ordered:
        out.append(text[at:e.start])
        out.append(e.insert)
        at = e.end
    out.append(text[at:])
    return "".join(out)


def _block(doc: RawDocument, statement: str, indent: str) -> str:
    """A statement written one line per line of `statement`, each in `indent` plus its own depth (leading tabs of
    the statement: one step of the file's indentation each)."""
    unit = doc.unit()
    out = []
    for line in statement.split("\n"):
        body = line.lstrip("\t")
        out.append(indent + unit * (len(line) - len(body)) + body)
    return doc.newline.join(out)


def _inline(statement: str) -> str:
    return "".join(line.lstrip("\t") for line in statement.split("\n"))


def _on_own_line_after(doc: RawDocument, pos: int) -> bool:
    """Only whitespace between pos and the end of its line."""
    nl = doc.text.find("\n", pos)
    return doc.text[pos: nl if nl >= 0 else len(doc.text)].strip() == ""


def insert_first(doc: RawDocument, path: str, parent: RawElement, statement: str) -> Edit:
    """`statement` as the first child of `parent`."""
    if parent.self_closing:
        return _expand(doc, path, parent, statement)
    if _on_own_line_after(doc, parent.open_end):
        indent = doc.child_indent(parent)
        return Edit(path, parent.open_end, parent.open_end, doc.newline + _block(doc, statement, indent))
    return Edit(path, parent.open_end, parent.open_end, _inline(statement))


def insert_last(doc: RawDocument, path: str, parent: RawElement, statement: str) -> Edit:
    """`statement` as the last child of `parent`, on its own lines before the end tag when that tag starts a line."""
    if parent.self_closing:
        return _expand(doc, path, parent, statement)
    line_start = doc.line_start(parent.close_start)
    if doc.text[line_start:parent.close_start].strip() == "" and line_start > parent.open_end:
        indent = doc.child_indent(parent)
        return Edit(path, line_start, line_start, _block(doc, statement, indent) + doc.newline)
    return Edit(path, parent.close_start, parent.close_start, _inline(statement))


def _expand(doc: RawDocument, path: str, el: RawElement, statement: str) -> Edit:
    """`<inbound />` becomes `<inbound>` + statement + `</inbound>`, in the element's own indentation."""
    outer = doc.indent_of(el)
    open_tag = doc.text[el.open_start:el.open_end]
    opened = open_tag[:-2].rstrip() + ">"
    if outer is None:
        body = _inline(statement)
        return Edit(path, el.open_start, el.open_end, f"{opened}{body}</{el.name}>")
    nl = doc.newline
    body = _block(doc, statement, outer + doc.unit())
    return Edit(path, el.open_start, el.open_end, f"{opened}{nl}{body}{nl}{outer}</{el.name}>")


def rename(path: str, doc: RawDocument, el: RawElement, new_name: str) -> list[Edit]:
    """The element's name in its start and end tags; attributes, children and spacing untouched."""
    start = el.open_start + 1
    edits = [Edit(path, start, start + len(el.name), new_name)]
    if not el.self_closing:
        at = el.close_start + 2
        at += len(doc.text[at:el.close_end]) - len(doc.text[at:el.close_end].lstrip())
        edits.append(Edit(path, at, at + len(el.name), new_name))
    return edits


def remove(path: str, doc: RawDocument, el: RawElement) -> Edit:
    """The element; with its whole line when it stands alone on it (so no blank line is left behind)."""
    line_start = doc.line_start(el.open_start)
    nl = doc.text.find("\n", el.close_end)
    line_end = len(doc.text) if nl < 0 else nl + 1
    if doc.text[line_start:el.open_start].strip() == "" and doc.text[el.close_end:line_end].strip() == "":
        return Edit(path, line_start, line_end, "")
    return Edit(path, el.open_start, el.close_end, "")

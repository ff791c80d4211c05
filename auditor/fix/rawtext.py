"""Where each element of a policy file sits in its raw text, and how the file is written (newline, indentation).

A fix edits the bytes a person wrote, not a re-serialised tree: this map gives the character spans of start and
end tags so an edit can touch only them. Expressions are skipped the way the gateway reads rawxml (a `>` or a
`"` inside `@(...)` does not end a tag); comments, CDATA and processing instructions hold no elements.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..policy.wellformed import RawXmlError, tag_end, text_end

_NAME = re.compile(r"</?\s*([A-Za-z_][\w.\-:]*)")


@dataclass
class RawElement:
    """One element: its start tag text[open_start:open_end], end tag text[close_start:close_end] (for a
    self-closing element both spans are the start tag)."""

    name: str
    open_start: int
    open_end: int
    close_start: int = -1
    close_end: int = -1
    children: list[RawElement] = field(default_factory=list)

    @property
    def self_closing(self) -> bool:
        return self.close_start == self.open_start

    def child(self, name: str) -> RawElement | None:
        return next((c for c in self.children if c.name == name), None)

    def iter(self) -> Iterator[RawElement]:
        yield self
        for c in self.children:
            yield from c.iter()


@dataclass
class RawDocument:
    """A policy file's text (BOM removed, newlines as written) and its element spans."""

    text: str
    root: RawElement
    bom: str = ""

    @property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    def line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def indent_of(self, el: RawElement) -> str | None:
        """The whitespace before the element on its line, or None when other text precedes it there."""
        start = self.line_start(el.open_start)
        lead = self.text[start:el.open_start]
        return lead if lead.strip() == "" else None

    def line_of(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def unit(self) -> str:
        """The file's indentation step: the most common difference between a child's and its parent's indent."""
        steps: Counter[str] = Counter()
        for el in self.root.iter():
            outer = self.indent_of(el)
            for c in el.children:
                inner = self.indent_of(c)
                if outer is not None and inner is not None and inner.startswith(outer) and len(inner) > len(outer):
                    steps[inner[len(outer):]] += 1
        if steps:
            return steps.most_common(1)[0][0]
        return "\t" if "\n\t" in self.text else "    "

    def child_indent(self, parent: RawElement) -> str:
        """How a new child of `parent` is indented: like its children, else one step inside it."""
        for c in parent.children:
            ind = self.indent_of(c)
            if ind is not None:
                return ind
        return (self.indent_of(parent) or "") + self.unit()


def parse_raw(data: str) -> RawDocument:
    """The element map of a policy text. Raises RawXmlError (with a line) when the markup does not nest."""
    bom = "\ufeff" if data.startswith("\ufeff") else ""
    text = data[len(bom):]
    stack: list[RawElement] = []
    root: RawElement | None = None
    i, n = 0, len(text)
    while i < n:
        if text[i] != "<":
            i = text_end(text, i)
            continue
        for opener, closer in (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>")):
            if text.startswith(opener, i):
                end = text.find(closer, i + len(opener))
                if end < 0:
                    raise RawXmlError(f"unclosed {opener}", text.count("\n", 0, i) + 1)
                i = end + len(closer)
                break
        else:
            m = _NAME.match(text, i)
            if m is None:
                i = text_end(text, i + 1) if i + 1 < n else n
                continue
            end = tag_end(text, i)
            name = m.group(1)
            if text[i + 1] == "/":
                if not stack or stack[-1].name != name:
                    raise RawXmlError(f"</{name}> does not close the open element", text.count("\n", 0, i) + 1)
                el = stack.pop()
                el.close_start, el.close_end = i, end
            else:
                el = RawElement(name, i, end)
                if stack:
                    stack[-1].children.append(el)
                elif root is None:
                    root = el
                if text[end - 2] == "/":
                    el.close_start, el.close_end = i, end
                else:
                    stack.append(el)
            i = end
    if stack or root is None:
        raise RawXmlError("unclosed element" if stack else "no element", None)
    return RawDocument(text, root, bom)


def element_text(doc: RawDocument, el: RawElement) -> str:
    return doc.text[el.open_start:el.close_end]


def base_spelling(texts: list[str]) -> str:
    """`<base />` or `<base/>`, as the estate writes it most often (`<base />` when it never does)."""
    counts = Counter(m.group(0) for t in texts for m in re.finditer(r"<base\s*/>", t))
    return counts.most_common(1)[0][0] if counts else "<base />"

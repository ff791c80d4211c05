"""Where the HTML report lets a long name wrap: after the slashes of a path, never inside a word.

A table column is as narrow as its longest unbreakable run of text allows. Letting a path break anywhere (CSS
`overflow-wrap: anywhere`) lets the browser squeeze the whole column until words in other cells break too
("T M 00 1", "ye s"); an explicit break opportunity after each slash keeps the column narrow and every word whole.
"""

from __future__ import annotations

from markupsafe import Markup


def break_after_slashes(text: object) -> Markup:
    """The text, escaped, with a <wbr> (an optional line break) after each '/'."""
    return Markup("/<wbr>").join(str(text).split("/"))

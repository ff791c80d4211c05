"""Headless Chromium for the report tests: Debian's chromium driven by Playwright, or a skip that says why."""

from __future__ import annotations

import os
import shutil

CHROMIUM = os.environ.get("AOAI_AUDIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


PDFTOTEXT = shutil.which("pdftotext")


def why_unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM:
        return "no chromium binary (apt-get install chromium, or set AOAI_AUDIT_CHROMIUM)"
    return None


def why_no_pdf_text() -> str | None:
    """The print tests read the PDF back with poppler's pdftotext, as a reader's tools would."""
    return why_unavailable() or (None if PDFTOTEXT else "no pdftotext (apt-get install poppler-utils)")


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


def print_pdf(page) -> bytes:
    """The page as Chromium prints it: the report's own @page size (A4 landscape), backgrounds on."""
    return page.pdf(prefer_css_page_size=True, print_background=True)


# Every word of the matched elements that the browser set on more than one line. A "word" runs between spaces;
# a slash or hyphen ends one too (a line may break after "contoso-" or "apis/", never inside "TM001" or "yes").
# Range.getClientRects gives one box per line fragment of the word; fragments on different lines = a broken word.
BROKEN_WORDS_JS = """(selector) => {
  const broken = [];
  for (const el of document.querySelectorAll(selector)) {
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      if (!node.parentElement.getClientRects().length) continue;  // not rendered (closed <details>, hidden)
      for (const m of node.data.matchAll(/[^\\s\\/-]+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.bottom)));
        if (lines.size > 1) broken.push(m[0] + " in <" + el.tagName.toLowerCase() + "> " + el.textContent.trim().slice(0, 60));
      }
    }
  }
  return broken;
}"""

# Each policy excerpt scrolled to the middle of the screen: is its highlighted line's code on screen, inside the
# excerpt's box, clear of the line numbers, and the topmost element where it is drawn? Returns one line per failure.
EXCERPT_HIDDEN_JS = """() => {
  const out = [];
  const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
  for (const pre of document.querySelectorAll("pre.excerpt")) {
    pre.scrollIntoView({block: "center"});
    const hit = pre.querySelector(".hit");
    const code = hit && hit.querySelector(".src"), ln = hit && hit.querySelector(".ln");
    const text = code && code.textContent.trimStart();
    if (!text) { out.push("no highlighted code line: " + pre.textContent.slice(0, 60)); continue; }
    const range = document.createRange();
    range.selectNodeContents(code);
    const rects = [...range.getClientRects()].filter(r => r.width > 0);
    const box = pre.getBoundingClientRect(), num = ln.getBoundingClientRect();
    const first = rects[0];
    if (!first) { out.push("code has no box: " + text); continue; }
    const where = [first.left, first.top, first.right, first.bottom].map(Math.round).join(",");
    if (first.left < Math.max(box.left, 0) || first.left >= Math.min(box.right, vw)) out.push("code starts outside the excerpt or the screen (" + where + "): " + text);
    if (rects.some(r => r.right > Math.min(box.right, vw) + 1)) out.push("code runs past the excerpt's right edge: " + text);
    if (first.top < 0 || first.bottom > vh) out.push("code is not on screen (" + where + "): " + text);
    if (num.right > first.left + 1) out.push("line number overlaps the code: " + text);
    const probe = document.elementFromPoint(first.left + 2, (first.top + first.bottom) / 2);
    if (!probe || !code.contains(probe) && probe !== code) out.push("code is covered at (" + where + "): " + text);
  }
  return out;
}"""

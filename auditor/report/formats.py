"""Output formats by name. Every renderer is a plain function (result, registry) -> str; no rule logic here.

A format may take options of its own as keyword arguments with defaults (text: `color`, html: `previous`); the
command line calls those by their own names, so the generic `Renderer` promises only what every format takes."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the command line reads FORMATS at start-up: it must not import the engine
    from ..engine import AuditResult
    from ..rules import Registry

class Renderer(Protocol):
    """What every format's renderer takes and gives."""

    def __call__(self, result: AuditResult, registry: Registry, /) -> str: ...

# name -> (module, function, default file extension)
FORMATS: dict[str, tuple[str, str, str]] = {
    "text": ("aoai_audit.report.text", "render_text", "txt"),
    "json": ("aoai_audit.report.json_report", "render_json", "json"),
    "sarif": ("aoai_audit.report.sarif", "render_sarif", "sarif"),
    "html": ("aoai_audit.report.html", "render_html", "html"),
    "md": ("aoai_audit.report.markdown", "render_markdown", "md"),
    "junit": ("aoai_audit.report.junit", "render_junit", "xml"),
    "focus": ("aoai_audit.report.focus", "render_focus", "csv"),  # FOCUS 1.2 chargeback CSV (docs/focus.md)
    # GitLab Code Quality (artifacts:reports:codequality); `.json` would collide with the JSON report's file name
    "gitlab": ("aoai_audit.report.gitlab", "render_gitlab", "codequality.json"),
}


class ReportInputError(Exception):
    """The audit lacks what this format needs (the FOCUS export without usage): one line, exit 2."""


def renderer(name: str) -> Renderer:
    module, func, _ext = FORMATS[name]
    return getattr(import_module(module), func)


def extension(name: str) -> str:
    return FORMATS[name][2]

"""What the audit could not read or parse. Fails closed: each gap becomes an AU001 or AU002 finding."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CollectionGap:
    """Something the audit could not read or parse. Fails closed: it becomes AU001/AU002."""

    kind: str  # "unreadable" (AU001) or "unparseable" (AU002)
    target: str  # file path or resource id
    message: str
    line: int | None = None
    status: int | None = None  # HTTP status for live reads
    needs: str | None = None  # permission or role that would fix it
    resource: str = ""  # estate path of what is affected, if known


def _within(inner: str, outer: str) -> bool:
    inner, outer = inner.rstrip("/").lower(), outer.rstrip("/").lower()
    return bool(outer) and (inner == outer or inner.startswith(outer + "/"))


def unknown_for(
    gaps: tuple[CollectionGap, ...], resource_id: str, about: str, declared_in: str | None = None
) -> list[CollectionGap]:
    """The gaps that leave `about` (e.g. "diagnosticSettings", "roleAssignments") unknown for a resource: a read
    of it that failed on the resource, below it, or on a scope that contains it (a subscription-wide list), or a
    declaration of that kind that could not be read in the file that declares the resource. A rule must not call
    such a thing missing: unknown is not none, and AU001/AU002 already report the failed read."""
    needle = about.lower()
    out = []
    for gap in gaps:
        if needle not in f"{gap.target} {gap.needs or ''} {gap.message}".lower():
            continue
        if (resource_id and (_within(gap.target, resource_id) or _within(resource_id, gap.target))) or (
            declared_in and gap.target == declared_in
        ):
            out.append(gap)
    return out

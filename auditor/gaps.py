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

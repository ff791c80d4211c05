"""A saved collection (`aoai-audit collect -o snapshot.json[.gz]`) as a source."""

from __future__ import annotations

import dataclasses
import os

from ..estate import CollectionGap, Estate, SourceInfo
from ..snapshot import MAX_SNAPSHOT_BYTES, SnapshotError, load_snapshot_bytes


def read_snapshot(path: str) -> Estate:
    """The estate as it was collected; an unreadable snapshot is an AU002 gap, never a traceback."""
    try:
        if os.path.getsize(path) > MAX_SNAPSHOT_BYTES:
            raise SnapshotError(f"{path}: larger than {MAX_SNAPSHOT_BYTES:,} bytes")
        with open(path, "rb") as fh:
            data = fh.read()
        estate, _doc = load_snapshot_bytes(data, path)
    except OSError as exc:
        gap = CollectionGap("unreadable", path, f"cannot read snapshot: {exc.strerror or exc}")
        return Estate(sources=(SourceInfo("snapshot", path, frozenset()),), gaps=(gap,))
    except SnapshotError as exc:
        gap = CollectionGap("unparseable", path, str(exc))
        return Estate(sources=(SourceInfo("snapshot", path, frozenset()),), gaps=(gap,))
    # What the snapshot carries is what its original sources carried; say it came through a snapshot.
    sources = tuple(
        dataclasses.replace(s, kind=f"snapshot of {s.kind}", location=f"{path} ({s.location})") for s in estate.sources
    ) or (SourceInfo("snapshot", path, frozenset()),)
    return dataclasses.replace(estate, sources=sources, root=estate.root or os.path.dirname(path))

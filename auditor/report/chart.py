"""The daily usage chart of the HTML report as plain SVG geometry: stacked bars and a token axis, no script."""

from __future__ import annotations

import datetime as dt
from typing import Any


def _nice_step(top: int, ticks: int = 4) -> int:
    """A round axis step (1, 2 or 5 × 10^n) so that `ticks` steps cover the tallest bar."""
    raw = max(top / ticks, 1)
    power = 10 ** (len(str(int(raw))) - 1)
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _tokens_label(n: int) -> str:
    for size, unit in ((10**9, "B"), (10**6, "M"), (10**3, "k")):
        if n >= size:
            return f"{n / size:,.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n:,}"


CHART_SERIES = (("bar-attr", "attributed to a team"), ("bar-unknown", "unknown bucket (no team)"),
                ("bar-unmetered", "not metered by the gateway (platform − gateway)"))


def daily_chart(split: list[tuple[dt.date, int, int, int]], width: int = 720, height: int = 180) -> dict[str, Any] | None:
    """Stacked daily bars (attributed, unknown, unmetered, as the summary splits each day) as plain SVG geometry
    with a token axis: no script."""
    if not split:
        return None
    days = [(day.isoformat(), attributed, unknown, unmetered) for day, attributed, unknown, unmetered in split]
    tallest = max(a + u + m for _d, a, u, m in days) or 1
    step = _nice_step(tallest)
    top = step * -(-tallest // step)
    left = 64  # room for the axis values
    plot = width - left
    slot = plot / len(days)
    bar = max(min(slot * 0.7, 48), 1)
    bars = []
    for i, (day, attributed, unknown, unmetered) in enumerate(days):
        x, y = left + i * slot + (slot - bar) / 2, float(height)
        for (cls, label), value in zip(CHART_SERIES, (attributed, unknown, unmetered), strict=True):
            h = value / top * height
            y -= h
            if value:
                bars.append({"x": round(x, 1), "y": round(y, 1), "w": round(bar, 1), "h": round(h, 1), "cls": cls,
                             "title": f"{day}: {value:,} tokens, {label}"})
    ticks = [{"y": round(height - v / top * height, 1), "text": _tokens_label(v)} for v in range(0, top + 1, step)]
    every = max(1, len(days) // 8)
    labels = [{"x": round(left + i * slot + slot / 2, 1), "text": days[i][0][5:]} for i in range(0, len(days), every)]
    return {"width": width, "height": height, "left": left, "bars": bars, "labels": labels, "ticks": ticks,
            "series": CHART_SERIES, "tallest": f"{tallest:,}"}

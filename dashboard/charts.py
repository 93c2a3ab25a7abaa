"""Server-rendered SVG charts of readiness scores (0-100): no JavaScript, no CDN.

Both functions return markup marked safe for templates; every piece of text in
it is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

READY_SCORE = 80


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def sparkline_svg(scores: Sequence[int], *, width: int = 100, height: int = 24) -> SafeString:
    """A small trend line of scores, oldest first; empty markup when there is nothing to draw."""
    if not scores:
        return mark_safe("")
    pad = 2
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    step = inner_w / (len(scores) - 1) if len(scores) > 1 else 0
    coords = [
        (pad + (i * step if len(scores) > 1 else inner_w), pad + inner_h * (1 - min(max(s, 0), 100) / 100))
        for i, s in enumerate(scores)
    ]
    points = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in coords)
    last_x, last_y = coords[-1]
    label = escape(f"Score trend, oldest to newest: {', '.join(str(s) for s in scores)}")
    return mark_safe(
        f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        f"<title>{label}</title>"
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round" points="{points}"/>'
        f'<circle cx="{_fmt(last_x)}" cy="{_fmt(last_y)}" r="2" fill="currentColor"/>'
        "</svg>"
    )


def history_chart_svg(points: Sequence[tuple[datetime, int]], *, width: int = 640, height: int = 200) -> SafeString:
    """Score over time from (when, score) pairs, oldest first, with the ready threshold marked.

    Time runs proportionally along the x axis, so a burst of scans looks like one.
    """
    if not points:
        return mark_safe("")
    left, right, top, bottom = 36, 12, 10, 24
    inner_w, inner_h = width - left - right, height - top - bottom
    first, last = points[0][0], points[-1][0]
    span = (last - first).total_seconds()

    def x_of(index: int, when: datetime) -> float:
        if span > 0:
            return left + inner_w * (when - first).total_seconds() / span
        return left + (inner_w * index / (len(points) - 1) if len(points) > 1 else inner_w / 2)

    def y_of(score: int) -> float:
        return top + inner_h * (1 - min(max(score, 0), 100) / 100)

    parts = []
    for value in (0, 50, READY_SCORE, 100):
        y = _fmt(y_of(value))
        css, dash = ("threshold", ' stroke-dasharray="4 3"') if value == READY_SCORE else ("grid", "")
        parts.append(
            f'<line class="{css}" x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="#dde2ea"{dash}/>'
            f'<text x="{left - 6}" y="{y}" text-anchor="end" dominant-baseline="middle" font-size="11" '
            f'fill="#5b6475">{value}</text>'
        )
    coords = [(x_of(i, when), y_of(score)) for i, (when, score) in enumerate(points)]
    parts.append(
        '<polyline fill="none" stroke="#1849a9" stroke-width="2" stroke-linejoin="round" points="'
        + " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in coords)
        + '"/>'
    )
    for (x, y), (when, score) in zip(coords, points, strict=True):
        tip = escape(f"{when:%Y-%m-%d %H:%M} · {score}")
        parts.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="3.5" fill="#1849a9"><title>{tip}</title></circle>')
    baseline = height - 6
    parts.append(f'<text x="{left}" y="{baseline}" font-size="11" fill="#5b6475">{first:%Y-%m-%d}</text>')
    if span > 0:
        parts.append(
            f'<text x="{width - right}" y="{baseline}" text-anchor="end" font-size="11" fill="#5b6475">'
            f"{last:%Y-%m-%d}</text>"
        )
    label = escape(f"Score history: {len(points)} scans, latest score {points[-1][1]}")
    return mark_safe(
        f'<svg class="history-chart" xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{label}" data-points="{len(points)}"><title>{label}</title>{"".join(parts)}</svg>'
    )

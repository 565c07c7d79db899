"""Server-rendered SVG charts: no JavaScript library, no CDN, every text node escaped.

Labels (metric and service names) are untrusted like any other stored text, so they pass
through :func:`markupsafe.escape`; numbers are formatted, never interpolated raw.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from markupsafe import Markup, escape

from healops.dashboard.summaries import parse_time

# The fleet's metrics and their units (healops/fleet/telemetry.py): shown on the axis and in each hover.
METRIC_UNITS = {
    "CPUUtilization": "%",
    "MemoryUtilization": "%",
    "DiskUtilization": "%",
    "ErrorRate": "%",
    "LatencyP50": "ms",
    "LatencyP99": "ms",
    "RequestCount": "requests",
    "Heartbeat": "up (1) / down (0)",
}
TIME_LABELS = 3  # first, middle, last point's time under the axis


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S")


def unit_of(metric: str) -> str:
    return METRIC_UNITS.get(metric, "")


def line_chart(
    title: str, points: Sequence[tuple[str, float]], width: int = 360, height: int = 130, unit: str | None = None
) -> Markup:
    """A polyline of ``points`` ((ISO time, value), oldest first): its min and max with the unit on the value
    axis, UTC times under the time axis, the last value, and a hover (an SVG ``<title>``) on every point giving
    its time and value. ``unit`` defaults to the metric's (:data:`METRIC_UNITS`, by ``title``)."""
    pad_x, pad_top, pad_bottom = 40, 18, 26
    inner_w, inner_h = width - pad_x - 8, height - pad_top - pad_bottom
    unit = unit_of(title) if unit is None else unit
    label = escape(f"{title} ({unit})" if unit else title)
    suffix = escape(f" {unit}" if unit else "")
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" data-unit="{escape(unit)}"><title>{label}</title>',
        f'<text x="4" y="12" class="chart-title">{label}</text>',
    ]
    times = [parse_time(t) for t, _ in points]
    pairs = [(t.timestamp(), v) for t, (_, v) in zip(times, points, strict=True) if t is not None]
    if not pairs:
        parts.append(
            f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" class="chart-empty">no data</text>'
        )
        return Markup("".join(parts) + "</svg>")
    t0, t1 = pairs[0][0], pairs[-1][0]
    lo, hi = min(v for _, v in pairs), max(v for _, v in pairs)
    span_t, span_v = (t1 - t0) or 1.0, (hi - lo) or 1.0

    def xy(t: float, v: float) -> tuple[float, float]:
        return pad_x + (t - t0) / span_t * inner_w, pad_top + inner_h - (v - lo) / span_v * inner_h

    coords = " ".join("{:.1f},{:.1f}".format(*xy(t, v)) for t, v in pairs)
    base = pad_top + inner_h
    parts += [
        f'<line x1="{pad_x}" y1="{base}" x2="{pad_x + inner_w}" y2="{base}" class="axis"/>',
        f'<text x="{pad_x - 3}" y="{pad_top + 8}" text-anchor="end" class="tick">{_fmt(hi)}</text>',
        f'<text x="{pad_x - 3}" y="{base}" text-anchor="end" class="tick">{_fmt(lo)}</text>',
        f'<polyline points="{coords}" class="line"/>',
        f'<text x="{width - 4}" y="12" text-anchor="end" class="chart-last">last {_fmt(pairs[-1][1])}{suffix}</text>',
    ]
    for k in range(TIME_LABELS):
        t = t0 + (t1 - t0) * k / (TIME_LABELS - 1)
        anchor = ("start", "middle", "end")[min(k, 2)] if TIME_LABELS == 3 else "middle"
        parts.append(
            f'<text x="{xy(t, lo)[0]:.1f}" y="{base + 12}" text-anchor="{anchor}" class="time-tick">'
            f"{_clock(t)}{' UTC' if k == TIME_LABELS - 1 else ''}</text>"
        )
    for t, v in pairs:
        x, y = xy(t, v)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="point"><title>{_clock(t)} UTC: {_fmt(v)}{suffix}</title>'
            "</circle>"
        )
    return Markup("".join(parts) + "</svg>")


def bar_chart(
    title: str, counts: Sequence[int], width: int = 360, height: int = 104, unit: str = "incidents"
) -> Markup:
    """Bars of ``counts`` per hour, oldest first, the last ending now: hours-ago labels under the bars and a
    hover on each bar giving its hour and count."""
    label = escape(title)
    top = max(counts) if counts else 0
    inner_h = height - 44
    bar_w = (width - 8) / max(len(counts), 1)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>',
        f'<text x="4" y="12" class="chart-title">{label} (max {top})</text>',
    ]
    n = len(counts)
    for i, count in enumerate(counts):
        h = (count / top * inner_h) if top else 0
        ago = n - i  # this bar covers from ``ago`` hours ago to ``ago - 1``
        span = f"{ago} h ago to {ago - 1} h ago" if ago > 1 else "the last hour"
        parts.append(
            f'<rect x="{4 + i * bar_w:.1f}" y="{18 + inner_h - h:.1f}" width="{max(bar_w - 1, 1):.1f}" '
            f'height="{h:.1f}" class="bar"><title>{span}: {int(count)} {escape(unit)}</title></rect>'
        )
    if n:
        base = 18 + inner_h + 12
        parts += [
            f'<text x="4" y="{base}" text-anchor="start" class="time-tick">{n} h ago</text>',
            f'<text x="{width / 2:.1f}" y="{base}" text-anchor="middle" class="time-tick">{n // 2} h ago</text>',
            f'<text x="{width - 4}" y="{base}" text-anchor="end" class="time-tick">now</text>',
            f'<text x="{width - 4}" y="{base + 12}" text-anchor="end" class="tick">{escape(unit)} per hour</text>',
        ]
    return Markup("".join(parts) + "</svg>")

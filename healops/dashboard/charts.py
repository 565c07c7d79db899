"""Server-rendered SVG charts: no JavaScript library, no CDN, every text node escaped.

Labels (metric and service names) are untrusted like any other stored text, so they pass
through :func:`markupsafe.escape`; numbers are formatted, never interpolated raw.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from healops.dashboard.summaries import parse_time


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def line_chart(title: str, points: Sequence[tuple[str, float]], width: int = 360, height: int = 120) -> Markup:
    """A polyline of ``points`` ((ISO time, value), oldest first) with its min/max and last value."""
    pad_x, pad_top, pad_bottom = 36, 18, 16
    inner_w, inner_h = width - pad_x - 6, height - pad_top - pad_bottom
    label = escape(title)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>',
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
    coords = " ".join(
        f"{pad_x + (t - t0) / span_t * inner_w:.1f},{pad_top + inner_h - (v - lo) / span_v * inner_h:.1f}"
        for t, v in pairs
    )
    parts += [
        f'<line x1="{pad_x}" y1="{pad_top + inner_h}" x2="{pad_x + inner_w}" y2="{pad_top + inner_h}" class="axis"/>',
        f'<text x="{pad_x - 3}" y="{pad_top + 8}" text-anchor="end" class="tick">{_fmt(hi)}</text>',
        f'<text x="{pad_x - 3}" y="{pad_top + inner_h}" text-anchor="end" class="tick">{_fmt(lo)}</text>',
        f'<polyline points="{coords}" class="line"/>',
        f'<text x="{width - 4}" y="12" text-anchor="end" class="chart-last">last {_fmt(pairs[-1][1])}</text>',
    ]
    return Markup("".join(parts) + "</svg>")


def bar_chart(title: str, counts: Sequence[int], width: int = 360, height: int = 90) -> Markup:
    """Bars of ``counts`` (e.g. incidents per hour, oldest first)."""
    label = escape(title)
    top = max(counts) if counts else 0
    inner_h = height - 30
    bar_w = (width - 8) / max(len(counts), 1)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>',
        f'<text x="4" y="12" class="chart-title">{label} (max {top})</text>',
    ]
    for i, count in enumerate(counts):
        h = (count / top * inner_h) if top else 0
        parts.append(
            f'<rect x="{4 + i * bar_w:.1f}" y="{18 + inner_h - h:.1f}" width="{max(bar_w - 1, 1):.1f}" '
            f'height="{h:.1f}" class="bar"><title>{int(count)}</title></rect>'
        )
    return Markup("".join(parts) + "</svg>")

"""Two small inline SVG charts (lines over days, stacked bars over months) for the HTML report,
so the report needs no plotting library."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#7f7f7f")
W, H, L, R, T, B = 720, 260, 60, 150, 20, 40


def _scale(lo: float, hi: float, a: float, b: float) -> tuple[float, float]:
    k = (b - a) / (hi - lo) if hi != lo else 0.0
    return k, a - k * lo


def _axis(lo: float, hi: float, unit: str) -> str:
    k, c = _scale(lo, hi, H - B, T)
    out = []
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        y = k * v + c
        out.append(
            f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{L - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{v:,.0f}</text>'
        )
    out.append(f'<text x="4" y="{T - 6}" font-size="10">{escape(unit)}</text>')
    return "".join(out)


def lines(
    title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], unit: str
) -> str:
    """A line per series over ``labels`` (days); None breaks a line."""
    values = [v for s in series.values() for v in s if v is not None]
    lo, hi = min([0.0, *values]), max([1.0, *values]) * 1.05
    ky, cy = _scale(lo, hi, H - B, T)
    kx, cx = _scale(0, max(1, len(labels) - 1), L, W - R)
    parts = [_axis(lo, hi, unit)]
    for i, (name, ys) in enumerate(series.items()):
        color = COLORS[i % len(COLORS)]
        path, pen = [], "M"
        for j, y in enumerate(ys):
            if y is None:
                pen = "M"
                continue
            path.append(f"{pen}{kx * j + cx:.1f},{ky * y + cy:.1f}")
            pen = "L"
        parts.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="1.5"/>'
        )
        parts.append(_legend(i, name, color))
    step = max(1, len(labels) // 6)
    for j in range(0, len(labels), step):
        parts.append(
            f'<text x="{kx * j + cx:.1f}" y="{H - B + 14}" font-size="10" text-anchor="middle">'
            f"{escape(labels[j])}</text>"
        )
    return _svg(title, parts)


def stacked_bars(
    title: str, labels: Sequence[str], series: dict[str, Sequence[float]], unit: str
) -> str:
    """Bars per label, the series stacked (negatives below zero)."""
    pos = [sum(max(0.0, s[j]) for s in series.values()) for j in range(len(labels))]
    neg = [sum(min(0.0, s[j]) for s in series.values()) for j in range(len(labels))]
    lo, hi = min([0.0, *neg]) * 1.05, max([1.0, *pos]) * 1.05
    ky, cy = _scale(lo, hi, H - B, T)
    slot = (W - L - R) / max(1, len(labels))
    parts = [_axis(lo, hi, unit)]
    for j, label in enumerate(labels):
        x = L + slot * j + slot * 0.15
        up = down = 0.0
        for i, ys in enumerate(series.values()):
            v = ys[j]
            base = up if v >= 0 else down
            y0, y1 = ky * base + cy, ky * (base + v) + cy
            if v >= 0:
                up += v
            else:
                down += v
            parts.append(
                f'<rect x="{x:.1f}" y="{min(y0, y1):.1f}" width="{slot * 0.7:.1f}"'
                f' height="{abs(y1 - y0):.1f}" fill="{COLORS[i % len(COLORS)]}"/>'
            )
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{H - B + 14}" font-size="10"'
            f' text-anchor="middle">{escape(label)}</text>'
        )
    zero = ky * 0 + cy
    parts.append(f'<line x1="{L}" x2="{W - R}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#000"/>')
    for i, name in enumerate(series):
        parts.append(_legend(i, name, COLORS[i % len(COLORS)]))
    return _svg(title, parts)


def _legend(i: int, name: str, color: str) -> str:
    y = T + 14 * i
    return (
        f'<rect x="{W - R + 10}" y="{y}" width="10" height="10" fill="{color}"/>'
        f'<text x="{W - R + 24}" y="{y + 9}" font-size="10">{escape(name)}</text>'
    )


def _svg(title: str, parts: list[str]) -> str:
    return (
        f"<figure><figcaption>{escape(title)}</figcaption>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}"'
        f' viewBox="0 0 {W} {H}" role="img">{"".join(parts)}</svg></figure>'
    )

"""The charts of the city replay report, drawn by the vendored Chart.js (the pages' own copy,
inlined so ``report.html`` is one file that opens offline). Chart.js picks the axis ticks
(1, 2 or 5 × 10ⁿ steps) and formats numbers in the Russian locale; this module only says what
to draw and, in one sentence per chart, what the chart shows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib import resources
from typing import Any

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#7f7f7f")
VENDOR = "static/vendor/chart.umd.min.js"


@dataclass(frozen=True)
class Chart:
    """One figure: ``kind`` "bar" (stacked, one bar per label) or "line" (one line per series;
    None leaves a gap)."""

    kind: str
    title: str
    unit: str
    labels: list[str]
    series: dict[str, list[float | None]]
    explain: str  # one sentence: what the reader sees and what it means

    def drawn(self) -> dict[str, list[float | None]]:
        """The series that have something to draw: one with no value (or, among stacked bars,
        only zeros) would be a legend entry without a line or a bar."""
        empty = {None, 0.0} if self.kind == "bar" else {None}
        return {k: v for k, v in self.series.items() if any(x not in empty for x in v)}

    def config(self) -> dict[str, Any]:
        stacked = self.kind == "bar"
        datasets = [
            {
                "label": name,
                "data": values,
                "backgroundColor": COLORS[i % len(COLORS)],
                "borderColor": COLORS[i % len(COLORS)],
                "borderWidth": 0 if stacked else 1.5,
                "pointRadius": 0,
                "spanGaps": False,
            }
            for i, (name, values) in enumerate(self.drawn().items())
        ]
        return {
            "type": self.kind,
            "data": {"labels": self.labels, "datasets": datasets},
            "options": {
                "locale": "ru-RU",
                "animation": False,
                "responsive": True,
                "maintainAspectRatio": False,
                "interaction": {"mode": "index", "intersect": False},
                "plugins": {"legend": {"position": "bottom"}},
                "scales": {
                    "x": {"stacked": stacked, "ticks": {"maxTicksLimit": 12}},
                    "y": {
                        "stacked": stacked,
                        "beginAtZero": True,
                        "title": {"display": True, "text": self.unit},
                    },
                },
            },
        }


@cache
def chart_js() -> str:
    """The vendored Chart.js (package data of ``api.web``)."""
    return resources.files("api.web").joinpath(VENDOR).read_text(encoding="utf-8")


def _json(doc: object) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(doc, ensure_ascii=False).replace("</", "<\\/")


def figures(charts: list[Chart]) -> str:
    """The charts as <figure>s with their sentence, and the script that draws them."""
    if not charts:
        return ""
    parts = []
    for i, c in enumerate(charts):
        parts.append(
            f"<figure><figcaption>{escape(c.title)}</figcaption>"
            f"<div class='chart'><canvas id='chart-{i}' role='img'"
            f" aria-label='{escape(c.title)}'></canvas></div>"
            f"<p class='explain'>{escape(c.explain)}</p></figure>"
        )
    configs = _json([c.config() for c in charts])
    parts.append(
        f"<script>{chart_js()}</script><script>"
        f"{configs}.forEach((cfg, i) => new Chart(document.getElementById('chart-' + i), cfg));"
        "</script>"
    )
    return "".join(parts)


__all__ = ["Chart", "chart_js", "figures"]

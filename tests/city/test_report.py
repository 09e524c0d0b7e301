"""The city replay report (issue #20): in Russian, no markdown left in the text, each chart
drawn by the vendored Chart.js with one sentence saying what it shows, no legend entry without
a line, round axis ticks (not 65,476 / 5,224 / −14,860), and the billing error line saying
what it is and whether it is expected."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from api.city.charts import Chart
from api.city.report import page
from api.city.report_text import CAUSE_NAMES, billing_verdict, markdown
from simulators.city.attribution import CAUSES
from tests.web.conftest import ARGS, CHROMIUM, SHOTS, _need_browser


def _money(d: dict[str, str]) -> dict[str, str]:
    return {"charged": "1000.00", "true": "903.61", **d}


def _report(causes: dict[str, str], error: str) -> dict[str, Any]:
    month = _money({"error": error, **causes})
    return {
        "city": {"seed": 7, "houses": 2, "premises": 80, "premises_without_water_meters": 9,
                 "months": ["2026-09"], "warmup_months": 12, "timezone": "Europe/Moscow"},
        "paths": {"mqtt": {"delivered": 10, "lost_before_delivery": 1, "stored": 8,
                           "duplicates": 1, "quarantined": {"malformed": 1}, "rejected": {},
                           "reconciles": True, "matches_ground_truth": True}},
        "anomalies": {"injected": {"dead_meter": {"injected": 2, "detected": 2},
                                   "house_meter_silent_3_days": {"injected": 1}},
                      "found": {"missing_data": 3}, "found_not_injected": {}},
        "billing": {"errors": {"by_month": {"2026-09": month}, "total": month,
                               "premise_months": {"count": 80, "overcharged": 40,
                                                  "undercharged": 30, "over_100_rub": 3,
                                                  "median_abs": "4.10"}}},
    }  # fmt: skip


CAUSES_OK = {"meter_readings": "60.00", "averages": "20.00", "normatives": "10.39",
             "soi_distribution": "5.00", "leaks": "1.00", "unregistered": "0.00"}  # fmt: skip


def test_the_billing_line_says_what_the_error_is_and_whether_it_is_expected() -> None:
    ok = billing_verdict(_report(CAUSES_OK, "96.39")["billing"]["errors"])
    assert "96.39 ₽" in ok and "+9.6 % начисленного" in ok
    assert "начисленное" in ok and "истинное потребление × тариф" in ok
    assert "ожидаема" in ok and "Не ожидается" not in ok
    # causes that do not add up to the error: said loudly, with the amount left over
    bad = billing_verdict(_report(CAUSES_OK, "100.39")["billing"]["errors"])
    assert "Не ожидается: 4.00 ₽ не объяснены" in bad


def test_markdown_is_russian_without_backticks() -> None:
    md = markdown(_report(CAUSES_OK, "96.39"))
    assert "`" not in md
    headings = (
        "# Прогон города, seed 7",
        "## Показания по путям",
        "## Аномалии: заложенные и найденные VEE",
        "## Ошибка начислений, ₽",
    )
    for heading in headings:
        assert heading + "\n" in md
    assert "2 дома, 80 помещений (9 без счётчиков воды)" in md and "12 месяцев разгона" in md
    assert "| MQTT (умные счётчики) | 10 | 1 | 8 | 1 | malformed 1 | да | да |" in md
    assert "| домовой счётчик молчал 3 сут. | 1 | 0 | 0 |" in md
    assert "| " + " | ".join(CAUSE_NAMES[c] for c in CAUSES) + " |" in md
    # no English left in the prose (codes of quarantine reasons are data, not prose)
    prose = [x for x in md.splitlines() if x and not x.startswith("|")]
    assert not [x for x in prose if re.search(r"\b(the|and|of|found|billing)\b", x)]


def _ugly_charts() -> list[Chart]:
    days = [f"{d:02d}.09" for d in range(1, 31)]
    wave = [65_476 + 5_224 * math.sin(d / 3) for d in range(30)]
    return [
        Chart("bar", "Ошибка по причинам", "₽", ["2026-09", "2026-10"],
              {"по показаниям": [65_476.0, -14_860.0], "по среднему": [5_224.0, 1_003.7],
               "утечки": [0.0, 0.0]},
              "Каждый столбец — ошибка месяца."),
        Chart("line", "Баланс дома h1", "м³", days,
              {"дом": wave, "домовой счётчик": [None] * 30,
               "помещения": [None if d % 7 == 0 else w * 0.8 for d, w in enumerate(wave)]},
              "Разрыв — утечка."),
    ]  # fmt: skip


def test_html_has_a_sentence_per_chart_and_no_empty_legend_entries() -> None:
    charts = _ugly_charts()
    html = page(markdown(_report(CAUSES_OK, "96.39")), charts, 7)
    assert "<html lang='ru'>" in html and "`" not in html.replace(chart_js_text(), "")
    assert html.count("<canvas") == len(charts)
    assert html.count("<p class='explain'>") == len(charts)
    assert "<script src=" not in html  # one file: Chart.js inlined, opens offline
    # no legend entry without a line or a bar
    assert [list(c.drawn()) for c in charts] == [
        ["по показаниям", "по среднему"],
        ["дом", "помещения"],
    ]


def chart_js_text() -> str:
    from api.city.charts import chart_js

    return chart_js()


def _round(v: float) -> bool:
    """At most two significant digits: 65 000, −15 000, 2.5 — not 65 476."""
    if v == 0:
        return True
    scale = 10 ** (math.floor(math.log10(abs(v))) - 1)
    return abs(v / scale - round(v / scale)) < 1e-9


@pytest.mark.slow
def test_chart_js_draws_round_ticks(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_api = _need_browser()
    path = tmp_path / "report.html"
    path.write_text(page(markdown(_report(CAUSES_OK, "96.39")), _ugly_charts(), 7), "utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            tab = browser.new_page(viewport={"width": 1100, "height": 1600}, locale="ru-RU")
            errors: list[str] = []
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(path.as_uri())
            ticks = tab.evaluate(
                "[0, 1].map(i => Chart.getChart('chart-' + i).scales.y.ticks.map(t => t.value))"
            )
            labels = tab.evaluate("Chart.getChart('chart-0').scales.y.ticks.map(t => t.label)")
            SHOTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SHOTS / "city_report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    for axis in ticks:
        assert len(axis) >= 3 and all(_round(v) for v in axis), axis
    assert min(ticks[0]) <= -14_860 and max(ticks[0]) >= 65_476 + 5_224
    assert any("\u00a0" in t or " " in t for t in labels)  # ru-RU groups thousands with spaces

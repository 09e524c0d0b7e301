"""The operator dashboard in a real browser: login with an API key, the house with the injected
imbalance first with its chart, ingestion health, binding an unbound meter (operator role only)."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.web.conftest import Site, shot
from tests.web.seed import LEAKY, TZ

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def script_errors(page: object) -> list[str]:
    return [e for e in page.console_errors if "Failed to load resource" not in e]  # type: ignore[attr-defined]


def log_in(page: object, key: str) -> None:
    page.goto("/operator")  # type: ignore[attr-defined]
    assert "/operator/login" in page.url  # type: ignore[attr-defined]
    page.get_by_label("Ключ доступа").fill(key)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Войти").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/operator$"))  # type: ignore[attr-defined]


def test_the_house_with_the_injected_imbalance_is_first(page, site: Site) -> None:
    log_in(page, site.server.viewer_key)
    rows = page.locator("#houses tbody tr.house")
    assert rows.count() == 3
    order = [rows.nth(i).get_attribute("data-house") for i in range(3)]
    assert order == [LEAKY, "h1", "h2"]
    assert "35%" in rows.first.inner_text()
    # One chart per top house, drawn by the vendored Chart.js with both series.
    series = page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".map(c => Chart.getChart(c).data.datasets.length)"
    )
    assert series == [2, 2, 2]
    health = page.locator("#health").inner_text()
    assert "mqtt" in health and "счётчик не привязан: 1" in health
    assert LEAKY in page.locator("#anomalies").inner_text()
    shot(page, "dashboard")

    rows.first.get_by_role("link", name=LEAKY).click()
    page.wait_for_url(f"**/operator/houses/{LEAKY}?service=cold_water")
    assert page.evaluate("() => Chart.getChart(document.getElementById('balance')) != null")
    assert page.locator("table tbody tr").count() == 30
    shot(page, "house")
    assert not script_errors(page)


def test_numbers_have_units_and_times_are_local_and_russian(page, site: Site) -> None:
    log_in(page, site.server.viewer_key)
    leaky = page.locator(f'#houses tr.house[data-house="{LEAKY}"]').inner_text()
    assert leaky.count("м³") == 2  # the house meter's and the premises' volumes
    intro = page.locator("#houses").locator("xpath=preceding::p[1]").inner_text()
    assert "суточными" in intro  # says what the premises' side holds
    anomalies = page.locator("#anomalies").inner_text()
    assert "небаланс дома" in anomalies and "house_imbalance" not in anomalies
    # the seeded anomaly spans now()-30 days .. now(): shown in Moscow time, not ISO UTC
    start = (datetime.now(UTC) - timedelta(days=30)).astimezone(TZ)
    assert f"{start:%d.%m.%Y}" in anomalies
    assert not re.search(r"\d{4}-\d{2}-\d{2}", anomalies), anomalies
    assert page.locator("figure.chart figcaption").first.inner_text().endswith(", м³")


def test_a_viewer_cannot_bind_and_an_operator_can(page, site: Site) -> None:
    stray = site.seeded.stray
    log_in(page, site.server.viewer_key)
    page.goto("/operator/meters?status=unbound")
    row = page.locator(f"#meter-{stray}")
    assert "stray-7" in row.inner_text() and row.get_by_role("button").count() == 0
    token = page.locator("form.logout input[name=csrf]").input_value()
    r = page.request.post(
        f"/operator/meters/{stray}/bind", form={"csrf": token, "kind": "premise",
                                                 "target": "h1-2"}, max_redirects=0,
    )  # fmt: skip
    assert r.status == 403

    page.context.clear_cookies()
    log_in(page, site.server.operator_key)
    page.goto("/operator/meters?status=unbound")
    row = page.locator(f"#meter-{stray}")
    assert row.locator("td[data-label='В карантине']").inner_text() == "1"
    shot(page, "unbound-meters")
    row.get_by_label("Номер помещения или дома").fill("no-such-flat")
    row.get_by_role("button", name="Привязать").click()
    assert "Помещение «no-such-flat» не найдено" in page.get_by_role("alert").inner_text()
    assert page.url.endswith("/operator/meters?status=unbound&page=1")  # back where it was
    row = page.locator(f"#meter-{stray}")
    row.get_by_label("Номер помещения или дома").fill("h1-2")
    row.get_by_role("button", name="Привязать").click()
    status = page.get_by_role("status").inner_text()
    assert "stray-7 привязан к h1-2" in status and "сохранено 1" in status
    assert page.locator(f"#meter-{stray}").count() == 0
    assert not script_errors(page)


def test_a_resident_session_does_not_open_the_dashboard(page, site: Site) -> None:
    from tests.api.conftest import ALICE

    page.goto("/login")
    page.get_by_label("Номер лицевого счёта").fill(ALICE[0])
    page.get_by_label("Пароль").fill(ALICE[1])
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/cabinet")
    page.goto("/operator")
    assert "/operator/login" in page.url
    page.get_by_label("Ключ доступа").fill("uk_not-a-key")
    page.get_by_role("button", name="Войти").click()
    assert "Ключ не найден или отозван" in page.get_by_role("alert").inner_text()


def test_a_house_without_house_meter_data_shows_no_imbalance(page, site: Site) -> None:
    """An ОДПУ with no known day (ratio unknown) is "нет данных ОДПУ", not a 0 / 0 / "—" row
    that reads like a balanced house. Runs last: it adds a balance row."""
    day = datetime.now(UTC).date() - timedelta(days=2)

    async def add() -> None:
        conn = await asyncpg.connect(site.server.db_url)
        try:
            run = await conn.fetchval("SELECT max(id) FROM vee_runs")
            await conn.execute(
                "INSERT INTO vee_house_balance (period, house_id, service, day, house_volume,"
                " premises_volume, ratio, run_id) VALUES ($1, 'h2', 'electricity', $2, NULL,"
                " 812.5, NULL, $3)",
                day.replace(day=1), day, run,
            )  # fmt: skip
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API runs a loop in this thread
        pool.submit(asyncio.run, add()).result()
    log_in(page, site.server.viewer_key)
    row = page.locator('#houses tr.house[data-house="h2"]').filter(has_text="Электроэнергия")
    text = row.inner_text()
    assert "нет данных ОДПУ" in text
    assert "кВт·ч" not in text and "%" not in text  # no volumes compared, no ratio


HOSTILE = [
    # (file, line, field, words of the message): each a clear error by line, never a 500
    ("счётчик;помещение\n1;h1-2\n".encode("cp1251") + b"\x98\n", "3", "file", "Windows-1251"),
    (b'meter;premise\n"' + b"x" * 140_000 + b'";h1-2\n', "2", "line", "поле длиннее"),
    (b"meter;premise\n1;h1\x002\n", "2", "premise", "NUL"),
    (b'meter;premise\n"a\nb";h1-2\nno such;h1-2\n', "4", "meter", "«no such»"),
]


def test_a_hostile_csv_file_gets_errors_by_line(page, site: Site) -> None:
    log_in(page, site.server.operator_key)
    for content, line, field, words in HOSTILE:
        page.goto("/operator/meters")
        page.get_by_label("CSV-файл").set_input_files(
            files=[{"name": "bind.csv", "mimeType": "text/csv", "buffer": content}]
        )
        page.get_by_role("button", name="Загрузить").click()
        page.wait_for_selector("#bulk-result")
        rows = page.locator("#bulk-errors tbody tr").all_inner_texts()
        assert rows, page.locator("main").inner_text()[:500]
        cells = rows[-1].split("\t")
        assert cells[0].strip() == line and cells[1].strip() == field, rows
        assert words in cells[2], rows
    shot(page, "meters-bulk-hostile")
    assert not script_errors(page)

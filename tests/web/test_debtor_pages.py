"""The operator's debtors page in a real browser: totals and the largest debt first, the
filters (house, least debt, bucket) through the form, paging, the collection rate per house,
and the CSV/XLSX downloads of the filtered list; screenshots of each state."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import asyncpg
import pytest

from adapters.payments.register import PaymentRow
from adapters.store.ledger import record_payments
from core.ledger.dates import last_day, month_index
from ingest.ledger_month import save_month
from tests.api.conftest import ALICE, BOB
from tests.api.server import api_server
from tests.ledger.test_debtors_api import CAROL, fill_two_houses
from tests.ledger.test_ledger_month import add_house_h8
from tests.web.conftest import Site, _need_browser, shot
from tests.web.test_operator import log_in, script_errors

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
NBSP = "\u00a0"
JUNE = month_index(2026, 6)
MANY = 55  # premises of house h8, each owing 100.00 of 2026-04: more than a page of 50


async def fill_many(url: str) -> None:
    """The two houses of test_debtors_api and a third, h8, of MANY small debtors."""
    await fill_two_houses(url)
    conn = await asyncpg.connect(url)
    try:
        await add_house_h8(conn, MANY)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    _need_browser()
    with api_server(UCHET_WEB_SECURE_COOKIE="auto") as server:
        asyncio.run(fill_many(server.db_url))
        yield Site(server, None)  # type: ignore[arg-type]


def _rows(page: object) -> list[str]:
    rows = page.locator("#debtors tbody tr.debtor")  # type: ignore[attr-defined]
    return [rows.nth(i).get_attribute("data-account") for i in range(rows.count())]


def test_debtors_totals_order_paging_and_collection(page, site: Site) -> None:
    log_in(page, site.server.viewer_key)
    page.goto("/operator/debtors?month=2026-06")
    assert page.locator("#as-of").inner_text().startswith("Задолженность на 30.06.2026")
    assert page.locator("#total-accounts").inner_text() == str(3 + MANY)
    # 1800 + 500 + 150 + 55 × 100
    assert page.locator("#total-debt").inner_text() == f"7{NBSP}950,00{NBSP}₽"
    rows = _rows(page)
    assert rows[:2] == [ALICE[0], BOB[0]] and len(rows) == 50
    alice = page.locator(f'#debtors tr[data-account="{ALICE[0]}"]')
    assert alice.locator('[data-bucket="91-180"]').inner_text() == f"1{NBSP}000,00{NBSP}₽"
    assert alice.locator(".delay").inner_text() == f"107{NBSP}дн."
    assert page.locator("#page-of span").inner_text() == "страница 1 из 2"
    collection = page.locator("#collection")
    h1 = collection.locator('tr.house[data-house="h1"]')
    assert h1.locator('[data-period="2026-02"]').inner_text() == f"16,67{NBSP}%"
    assert h1.locator('[data-period="2026-01"]').inner_text() == f"100{NBSP}%"
    title = h1.locator('[data-period="2026-02"]').get_attribute("title") or ""
    assert title == f"оплачено 200,00{NBSP}₽ из 1{NBSP}200,00{NBSP}₽"
    h8 = collection.locator('tr.house[data-house="h8"]')
    assert h8.locator('[data-period="2026-04"]').inner_text() == f"0{NBSP}%"
    total = page.locator("#collection-total")
    assert total.locator('[data-period="2026-03"]').inner_text() == f"13,64{NBSP}%"
    shot(page, "debtors")
    page.get_by_role("link", name="Вперёд →").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert len(_rows(page)) == 3 + MANY - 50
    assert page.locator("#page-of span").inner_text() == "страница 2 из 2"
    back = page.locator("#page-of a[rel=prev]").get_attribute("href")
    assert back == "/operator/debtors?month=2026-06"
    assert not script_errors(page)


def test_filters_through_the_form_and_the_exports(page, site: Site) -> None:
    log_in(page, site.server.viewer_key)
    page.goto("/operator/debtors?month=2026-06")
    page.get_by_label("Дом").select_option("h9")
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url(re.compile(r"house=h9"))
    assert _rows(page) == [CAROL]
    assert page.locator("#total-debt").inner_text() == f"150,00{NBSP}₽"
    assert [page.locator("#collection tbody tr.house").get_attribute("data-house")] == ["h9"]

    page.get_by_label("Дом").select_option("")
    page.get_by_label("Долг с пенями от, ₽").fill("400")
    page.get_by_label("Просрочка").select_option("181+")
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url(re.compile(r"bucket=181"))
    assert _rows(page) == [BOB[0]]
    shot(page, "debtors-filtered")
    href = page.locator("#export-csv").get_attribute("href")
    assert href and "bucket=181%2B" in href and "min_debt=400" in href
    r = page.request.get(href)
    assert r.status == 200 and "debtors-2026-06.csv" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.body().decode("utf-8-sig")), delimiter=";"))
    assert [row[0] for row in rows[1:]] == [BOB[0]]
    openpyxl = pytest.importorskip("openpyxl")
    r = page.request.get(page.locator("#export-xlsx").get_attribute("href") or "")
    assert r.status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.body())).active
    assert [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)] == [BOB[0]]

    page.get_by_label("Долг с пенями от, ₽").fill("много")
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url(re.compile(r"min_debt="))
    assert "Долг с пенями от: введите сумму" in page.locator("#filter-error").inner_text()
    assert page.get_by_label("Долг с пенями от, ₽").get_attribute("aria-invalid") == "true"
    shot(page, "debtors-bad-filter")
    assert page.request.get("/operator/debtors?month=0000-01").status == 422
    r = page.request.get("/operator/debtors.csv?min_debt=x", max_redirects=0)
    assert r.status == 303 and r.headers["location"].startswith("/operator/debtors?")
    assert page.request.get("/operator/debtors.pdf").status == 404
    # on a phone the wide tables scroll inside their boxes, the page itself does not
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/operator/debtors?month=2026-06&house=h1")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot(page, "debtors-phone")
    assert not script_errors(page)


def test_debtors_need_an_operator_login(page, site: Site) -> None:
    page.goto("/operator/debtors")
    assert "/operator/login" in page.url
    r = page.request.get("/operator/debtors.csv", max_redirects=0)
    assert r.status in (302, 303, 307) and "/operator/login" in r.headers["location"]


async def _save_june(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await save_month(conn, JUNE, last_day(JUNE), batch=7)
    finally:
        await conn.close()


async def _late_payment(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        row = PaymentRow("late-web", ALICE[0], date(2026, 6, 29), 10000, None, "charges", 0)
        assert (await record_payments(conn, [row], "test")).recorded == ["late-web"]
    finally:
        await conn.close()


def _beside(coro: Coroutine[Any, Any, None]) -> None:
    """Runs ``coro`` in a thread of its own (the browser's loop runs in this one)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


def test_saved_month_says_so_and_warns_of_new_payments(page, site: Site) -> None:
    log_in(page, site.server.viewer_key)
    page.goto("/operator/debtors?month=2026-06")
    source = page.locator("#source")
    assert source.get_attribute("data-kind") == "live"
    assert "Рассчитано сейчас" in source.inner_text() and "--save" in source.inner_text()
    live_total = page.locator("#total-debt").inner_text()
    _beside(_save_june(site.server.db_url))
    page.goto("/operator/debtors?month=2026-06")
    assert source.get_attribute("data-kind") == "saved"
    assert re.match(
        r"По состоянию на 30\.06\.2026, сохранено \d\d\.\d\d\.\d{4} \d\d:\d\d", source.inner_text()
    )
    assert page.locator("#total-debt").inner_text() == live_total
    assert page.locator("#stale").count() == 0
    shot(page, "debtors-saved")
    page.locator("#recompute").click()
    page.wait_for_url(re.compile(r"live=1"))
    assert source.get_attribute("data-kind") == "live" and page.locator("#use-saved").count()
    assert page.locator("#total-debt").inner_text() == live_total
    _beside(_late_payment(site.server.db_url))
    page.goto("/operator/debtors?month=2026-06")
    assert "поступили оплаты (1)" in page.locator("#stale").inner_text()
    assert page.locator("#total-debt").inner_text() == live_total  # still the saved figures
    shot(page, "debtors-saved-stale")
    assert not script_errors(page)

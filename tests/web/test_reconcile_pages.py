"""The reconciliation page in a real browser: an operator uploads a property register; the
findings of the house with persistent unmetered consumption (the seeded leaky house) come first,
then by money; filters, exports; the decision buttons confirm, mark checked and open an account,
each recorded; a viewer sees no buttons and cannot post a decision."""

from __future__ import annotations

import asyncio
import io
import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from openpyxl import load_workbook

from tests.reconcile.test_cli import REGISTER
from tests.web.conftest import Site, shot
from tests.web.seed import LEAKY
from tests.web.test_operator import log_in, script_errors

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# the leaky house (ул. Речная, д. 7) gets one account; the register has it and two flats more
LEAKY_ROWS = (
    '"Тверь г, Речная ул, 7-1";;30;жилое;1;1\n'
    '"г. Тверь, ул. Речная, д. 7, кв. 2";;42;жилое;1;2\n'
    '"г. Тверь, ул. Речная, д. 7, кв. 3";;35;жилое;2;1\n'
)
NBSP = "\u00a0"


def _in_thread(coro: object) -> None:
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API runs a loop in this thread
        pool.submit(asyncio.run, coro).result()  # type: ignore[arg-type]


async def _leaky_account(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO premises (id, house_id, account, area, residents, owners)"
            " VALUES ('h-leak-1', $1, '7700000001', 30, 1, 1) ON CONFLICT DO NOTHING",
            LEAKY,
        )
    finally:
        await conn.close()


def _money(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d,−-]", "", text).replace(",", ".").replace("−", "-"))


@pytest.fixture(scope="module")
def register_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reg") / "реестр.csv"
    path.write_bytes((REGISTER + LEAKY_ROWS).encode("windows-1251"))
    return path


def test_a_viewer_sees_no_register_and_no_upload(page, site: Site) -> None:
    log_in(page, site.server.viewer_key)
    page.get_by_role("link", name="Сверка с реестром").click()
    page.wait_for_url("**/operator/reconcile")
    assert "ещё не загружен" in page.locator("#no-register").inner_text()
    assert page.locator("#upload-form").count() == 0
    assert not script_errors(page)


def test_operator_uploads_ranks_and_decides(page, site: Site, register_file: Path) -> None:
    _in_thread(_leaky_account(site.server.db_url))
    log_in(page, site.server.operator_key)
    page.goto("/operator/reconcile")
    page.locator("#register-file").set_input_files(str(register_file))
    page.get_by_role("button", name="Загрузить").click()
    page.wait_for_url("**/operator/reconcile")
    status = page.get_by_role("status").inner_text()
    assert "Загружен реестр.csv: 8 помещений, с ошибками 1" in status

    rows = page.locator("#findings-table tbody tr.finding")
    kinds = [rows.nth(i).get_attribute("data-kind") for i in range(rows.count())]
    assert sorted(kinds) == sorted(["unbilled"] * 3 + ["area", "residents", "review"])
    # the leaky house's two unbilled flats first (marked), then the rest by money
    first = [rows.nth(i).inner_text() for i in range(2)]
    assert all(LEAKY in t and "неучтённым" in t for t in first)
    assert rows.nth(0).get_attribute("class").endswith("hot")
    rest = [_money(rows.nth(i).locator("td.money").inner_text()) for i in range(2, rows.count())]
    assert rest == sorted(rest, reverse=True)
    assert page.locator("#houses tbody tr.house").first.get_attribute("data-house") == LEAKY
    assert "м²" in page.locator("#houses").inner_text()
    assert f"{NBSP}₽" in page.locator("#money-total").inner_text()
    shot(page, "reconcile")

    # exports carry the filters and the session
    page.locator("#kind").select_option("unbilled")
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url("**/operator/reconcile?kind=unbilled*")
    assert page.locator("#findings-table tbody tr.finding").count() == 3
    csv_text = page.request.get(page.locator("#export-csv").get_attribute("href")).text()
    assert [line.split(",")[1] for line in csv_text.splitlines()[1:]] == ["unbilled"] * 3
    xlsx = page.request.get(page.locator("#export-xlsx").get_attribute("href"))
    sheet = load_workbook(io.BytesIO(xlsx.body())).active
    kinds_sheet = [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert kinds_sheet == ["Нет лицевого счёта"] * 3

    # open an account from the first unbilled row of the leaky house
    row = page.locator("#findings-table tbody tr.finding").first
    key = row.get_attribute("data-key")
    row.get_by_role("button", name="Открыть лицевой счёт").click()
    assert (
        "Открыт лицевой счёт h-leak-2 (помещение h-leak-2)"
        in page.get_by_role("status").inner_text()
    )
    assert page.url.endswith("/operator/reconcile?kind=unbilled#findings")
    assert page.locator(f'tr.finding[data-key="{key}"]').count() == 0

    page.goto("/operator/reconcile")
    review = page.locator("tr.finding[data-kind=review]")
    review.get_by_role("button", name="Это h1-shop").click()
    assert "сопоставлена с помещением h1-shop" in page.get_by_role("status").inner_text()
    area = page.locator("tr.finding[data-kind=area]")
    area.get_by_role("button", name="Проверено").click()
    assert "проверенное" in page.get_by_role("status").inner_text()
    kinds = page.locator("#findings-table tbody tr.finding")
    left = {kinds.nth(i).get_attribute("data-kind") for i in range(kinds.count())}
    assert left == {"unbilled", "residents"}
    decisions = page.locator("#decisions tbody tr")
    assert decisions.count() == 3
    log = page.locator("#decisions").inner_text()
    assert "открыт лицевой счёт" in log and "сопоставлено" in log and "проверено" in log
    assert "web:api_key:" in log
    shot(page, "reconcile-decided")
    assert not script_errors(page)


def test_a_viewer_cannot_decide(page, site: Site) -> None:
    log_in(page, site.server.viewer_key)
    page.goto("/operator/reconcile")
    assert page.locator("#findings-table tbody tr.finding").count() > 0
    assert page.locator("#findings-table button").count() == 0
    key = page.locator("tr.finding").first.get_attribute("data-key")
    token = page.locator("form.logout input[name=csrf]").input_value()
    r = page.request.post(
        "/operator/reconcile/decide",
        form={"csrf": token, "action": "check", "kind": "unbilled", "key": key},
        max_redirects=0,
    )
    assert r.status == 403
    r = page.request.post(
        "/operator/reconcile/decide",
        form={"csrf": "forged", "action": "check", "kind": "unbilled", "key": key},
        max_redirects=0,
    )
    assert r.status == 403

"""The resident's balance page in a real browser: the month's figures, the debt by period,
the payments, and the ЕПД links; the ЕПД downloads with the session (PDF, QR sum)."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Iterator
from datetime import date

import pytest

from core.ledger.payment_qr import parse_payment_qr
from tests.api.conftest import ALICE
from tests.api.server import api_server
from tests.ledger.test_epd_store import PAYEE, fill_with_payments
from tests.web.conftest import Site, _need_browser, shot
from tests.web.test_resident import log_in, script_errors

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A server whose store holds the ledger of tests/ledger (Alice owes 1800.00 from 2026-02
    and 2026-03) and whose home has the ЕПД payee."""
    _need_browser()
    home = tmp_path_factory.mktemp("home")
    (home / "payee.json").write_text(json.dumps(PAYEE), encoding="utf-8")
    with api_server(UCHET_WEB_SECURE_COOKIE="auto", UCHET_HOME=str(home)) as server:
        asyncio.run(fill_with_payments(server.db_url))
        yield Site(server, None)  # type: ignore[arg-type]


def _pdf_qr(pdf: bytes) -> dict[str, str]:
    pypdf = pytest.importorskip("pypdf")
    zxingcpp = pytest.importorskip("zxingcpp")
    (image,) = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images
    (code,) = zxingcpp.read_barcodes(image.image)
    return parse_payment_qr(code.text)


def test_balance_page_shows_the_debt_and_the_epd(page, site: Site) -> None:
    log_in(page, ALICE, next_path="/cabinet/balance")
    nbsp = "\u00a0"
    assert page.locator("#closing").inner_text() == f"1{nbsp}800,00{nbsp}₽"
    assert page.locator("#charged").inner_text() == f"0,00{nbsp}₽"
    rows = page.locator("#periods tr.debt")
    assert rows.count() == 2
    assert f"1{nbsp}000,00" in page.locator("#debt-2026-02").inner_text()
    assert "800,00" in page.locator("#debt-2026-03").inner_text()
    penalty = page.locator("#penalty").inner_text()
    assert re.fullmatch(rf"[\d{nbsp}]+,\d\d{nbsp}₽", penalty) and penalty != f"0,00{nbsp}₽"
    today = date.today()
    last = f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"
    link = page.locator(f'#epd a[href="/cabinet/epd/{last}.pdf"]')
    assert link.count() == 1 and page.locator("#epd a").count() == 12
    # dates as a person reads them here; the payments of the last twelve months, newest first
    assert re.search(r"на \d\d\.\d\d\.20\d\d$", page.locator("#as-of").inner_text())
    assert page.locator("#debt-2026-02 .due").inner_text() == "15.03.2026"
    if today < date(2027, 2, 1):  # both payments are within the last twelve months
        recent = page.locator("#recent-payments tr.payment")
        assert [recent.nth(i).inner_text().split("\t")[0] for i in range(2)] == [
            "20.03.2026", "05.02.2026",
        ]  # fmt: skip
        assert "за февраль 2026" in recent.first.inner_text()
    shot(page, "ledger-balance")
    if today < date(2027, 3, 1):  # a past month of the last twelve: its own figures
        page.get_by_label("Месяц").select_option("2026-03")
        page.get_by_role("button", name="Показать").click()
        page.wait_for_url(re.compile(r"month=2026-03"))
        assert page.locator("#paid").inner_text() == f"200,00{nbsp}₽"
        assert page.locator("#charged").inner_text() == f"1{nbsp}200,00{nbsp}₽"
        assert page.locator("#payments").inner_text() == (
            f"20.03.2026 — 200,00{nbsp}₽ за февраль 2026"
        )
        assert "на 31.03.2026" in page.locator("#as-of").inner_text()
        shot(page, "ledger-balance-march")
    r = page.request.get(f"/cabinet/epd/{last}.pdf")
    assert r.status == 200 and r.headers["content-type"] == "application/pdf"
    r = page.request.get("/cabinet/epd/2026-03.pdf")
    assert r.status == 200
    assert _pdf_qr(r.body())["Sum"] == "180000"
    assert page.request.get("/cabinet/epd/2020-01.pdf").status == 404
    assert page.request.get("/cabinet/epd/nonsense").status == 404
    assert not script_errors(page)


def test_balance_page_needs_a_login(page, site: Site) -> None:
    page.goto("/cabinet/balance")
    assert page.url.endswith("/login?next=/cabinet/balance")
    r = page.request.get("/cabinet/epd/2026-03.pdf", max_redirects=0)
    assert r.status in (302, 303, 307) and "/login" in r.headers["location"]

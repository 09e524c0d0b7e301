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
    assert link.count() == 1
    shot(page, "ledger-balance")
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

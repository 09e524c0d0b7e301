"""The ЕПД from the store: the resident downloads theirs (`/v1/resident/epd/{month}.pdf`) and
``uchet epd`` writes a house's; the PDF text carries the figures worked out by hand and the QR
code decodes to the ГОСТ Р 56042-2014 fields with the sum to pay in kopecks."""

from __future__ import annotations

import asyncio
import io
import json
import re
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from adapters.payments.register import PaymentRow
from adapters.store.ledger import record_payments
from api.cli import main
from core.ledger.payment_qr import parse_payment_qr
from tests.api.conftest import ALICE, BOB, Env, env, prepare  # noqa: F401  (the fixture)
from tests.ledger.test_api_ledger import fill

pypdf = pytest.importorskip("pypdf", reason="pypdf (test extra) reads the PDF's text")
zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (test extra) decodes the QR")

pytestmark = pytest.mark.postgres

PAYEE = {
    "name": "ООО «УК Тверь»",
    "inn": "6901234567",
    "kpp": "690101001",
    "account": "40702810900000054321",
    "bank": "ПАО СБЕРБАНК",
    "bic": "042809679",
    "corr_account": "30101810700000000679",
}


def _row(pid: str, day: date, kopecks: int, period: date | None = None) -> PaymentRow:
    return PaymentRow(pid, ALICE[0], day, kopecks, period, "charges", 0)


async def fill_with_payments(url: str) -> None:
    """The accruals of test_api_ledger, January paid on time, 200.00 of February in March."""
    await fill(url)
    conn = await asyncpg.connect(url)
    try:
        rows = [
            _row("p1", date(2026, 2, 5), 100000),
            _row("b1", date(2026, 3, 20), 20000, date(2026, 2, 1)),
        ]
        assert len((await record_payments(conn, rows, "test")).recorded) == 2
    finally:
        await conn.close()


def _read(pdf: bytes) -> tuple[str, dict[str, str]]:
    assert pdf.startswith(b"%PDF")
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    (image,) = page.images
    (code,) = zxingcpp.read_barcodes(image.image)
    return page.extract_text(), parse_payment_qr(code.text)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "payee.json").write_text(json.dumps(PAYEE), encoding="utf-8")
    monkeypatch.setenv("UCHET_HOME", str(tmp_path))
    return tmp_path


async def test_the_resident_downloads_the_epd(env: Env, home: Path) -> None:  # noqa: F811
    await fill_with_payments(env.url)
    headers = await env.login(ALICE)
    r = await env.client.get("/v1/resident/epd/2026-03.pdf", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    text, qr = _read(r.content)
    # March: owed 1000 (January's) + 1200 (February's, charged 1 March) − 1000 paid in February
    # = 1200 before March's payments; paid 200; March's electricity 800 → 1800.00, no penalty
    # yet (February's is due 2026-03-15, 17 days late on 1 April: within the 30 days' grace)
    for words in (
        "Единый платёжный документ за 03.2026",
        f"Лицевой счёт: {ALICE[0]}",
        "г. Тверь, ул. Советская, д. 10",
        "Электроэнергия",
        "Задолженность на начало месяца 1200.00",
        "Начислено за месяц 800.00",
        "Оплачено в месяце 200.00",
        "Итого к оплате 1800.00",
        "Оплатить до 15.04.2026",
        "ИНН 6901234567",
    ):
        assert words in text, (words, text)
    assert qr["Sum"] == "180000" and qr["PersAcc"] == ALICE[0] and qr["PaymPeriod"] == "032026"
    assert qr["PersonalAcc"] == PAYEE["account"] and qr["BIC"] == PAYEE["bic"]
    assert qr["Name"] == PAYEE["name"] and qr["PayeeINN"] == PAYEE["inn"]

    bob = await env.login(BOB)
    r = await env.client.get("/v1/resident/epd/2026-03.pdf", headers=bob)
    text, qr = _read(r.content)
    # 500.00 due 2025-11-10, unpaid: 142 days late on 1 April, so a penalty is due on top
    assert qr["PersAcc"] == BOB[0] and int(qr["Sum"]) > 50000
    assert "Пени к оплате" in text

    r = await env.client.get("/v1/resident/epd/2100-01.pdf", headers=headers)
    assert r.status_code == 404, r.text
    assert (
        await env.client.get("/v1/resident/epd/2020-01.pdf", headers=headers)
    ).status_code == 404
    assert (await env.client.get("/v1/resident/epd/2026-3.pdf", headers=headers)).status_code == 422
    assert (await env.client.get("/v1/resident/epd/2026-03.pdf")).status_code == 401
    (home / "payee.json").write_text("{}", encoding="utf-8")
    r = await env.client.get("/v1/resident/epd/2026-03.pdf", headers=headers)
    assert r.status_code == 422 and "payee" in r.json()["detail"]


def test_epd_command_writes_a_house(
    db_url: str,
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asyncio.run(prepare(db_url))
    asyncio.run(fill_with_payments(db_url))
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    monkeypatch.setenv("UCHET_PROGRESS", "1")  # the bar, though stderr is not a terminal
    out = tmp_path / "out"
    assert main(["epd", "--month", "2026-03", "--house", "h1", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "ЕПД за 2026-03" in printed.err and re.search(r"100%.*2(\.00)?/2(\.00)?", printed.err)
    assert "ЕПД за 2026-03: записано 2 в" in printed.out
    files = sorted(p.name for p in out.iterdir())
    assert files == [f"epd-{ALICE[0]}-2026-03.pdf", f"epd-{BOB[0]}-2026-03.pdf"]
    text, qr = _read((out / files[0]).read_bytes())
    assert qr["Sum"] == "180000" and "Итого к оплате 1800.00" in text
    assert main(["epd", "--month", "2026-03", "--house", "none", "--out", str(out)]) == 0
    assert "записано 0 в" in capsys.readouterr().out

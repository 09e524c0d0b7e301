"""Opening debts from a CSV (``uchet payments opening-debts``): the reader on hostile files,
then the command on a real PostgreSQL — rows set, refused with line and reason, the ledger
owing them, a re-run changing nothing, and a saved month saying it may be out of date."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import asyncpg
import pytest

from adapters.payments.opening_debts import read_opening_debts
from adapters.store.ledger import load_accounts, set_opening_debt
from adapters.store.ledger_month import saved_month
from api.cli import main
from api.runtime import migrate_url
from core.ledger import LedgerError
from core.ledger.dates import month_index
from tests.api.conftest import BOB, prepare
from tests.ledger.test_debtors_api import CAROL, fill_two_houses
from tests.ledger.test_ledger_month import JUNE, save

UNTIL = date(2026, 12, 1)


def _read(text: str, encoding: str = "utf-8") -> tuple[list[tuple[str, str, int]], list[str]]:
    got = read_opening_debts(text.encode(encoding), UNTIL)
    rows = [(r.account, f"{r.period:%Y-%m}", r.amount) for r in got.rows]
    return rows, [f"{e.line}:{e.reason}" for e in got.errors]


def test_layouts_and_spellings() -> None:
    rows, errors = _read(
        "\ufeffЛицевой счёт;Период;Сумма;Примечание\n"
        "A1;2025-11;1 250,50;x\n"
        "A2;12.2025;-300,00;\n"
        "\n"
        "A3;112025;0;\n"
        "A4;1125;7\n",
        "utf-8",
    )
    assert errors == []
    assert rows == [
        ("A1", "2025-11", 125050),
        ("A2", "2025-12", -30000),
        ("A3", "2025-11", 0),
        ("A4", "2025-11", 700),
    ]
    # comma-separated, columns in another order, a quoted decimal comma; Windows-1251
    rows, errors = _read('amount,account,period\n"1500,5",лс-1,2026-01\n', "cp1251")
    assert (rows, errors) == ([("лс-1", "2026-01", 150050)], [])
    rows, errors = _read("долг\tл/с\tпериод\n10.01\tB\t2026-12\n")
    assert (rows, errors) == ([("B", "2026-12", 1001)], [])


def test_hostile_rows_are_refused_with_their_line_and_the_rest_read() -> None:
    rows, errors = _read(
        "account;period;amount\n"
        "A;2025-13;1\n"  # 2: no 13th month
        "A;9999-01;1\n"  # 3: far future
        "A;1999-12;1\n"  # 4: before 2000
        "A;2027-01;1\n"  # 5: after the current month
        "A;2025-01;1e20\n"  # 6
        "A;2025-01;1234567890123456\n"  # 7: 16 digits of rubles
        "A;2025-01;1,234\n"  # 8: three decimals
        "A\x00;2025-01;1\n"  # 9: a NUL byte
        "A;2025-01\n"  # 10: a column short
        ";2025-01;1\n"  # 11: no account
        "ok;2025-01;5\n"  # 12: good
        "ok;01.2025;6\n"  # 13: the same account and period again
        "ok;2025-02;" + "9" * 300 + "\n"  # 14: over 200 characters
    )
    assert rows == [("ok", "2025-01", 500)]
    assert errors == [
        "2:malformed_period",
        "3:period_out_of_range",
        "4:period_out_of_range",
        "5:period_out_of_range",
        "6:malformed_amount",
        "7:malformed_amount",
        "8:malformed_amount",
        "9:invalid_field",
        "10:missing_field",
        "11:missing_field",
        "13:duplicate",
        "14:invalid_field",
    ]
    got = read_opening_debts(b"account;period;amount\nok;2025-01;5\nok;01.2025;6\n", UNTIL)
    assert "already given on line 2" in got.errors[0].detail


def test_a_file_that_is_not_opening_debts_is_one_clear_error() -> None:
    assert _read("") == ([], ["1:empty_file"])
    rows, errors = _read("account;amount\nA;1\n")
    assert (rows, errors) == ([], ["1:missing_column"])
    got = read_opening_debts(b"\n\nsum;who\n", UNTIL)
    assert got.errors[0].line == 3 and "no account column" in got.errors[0].detail
    rows, errors = _read("\x89PNG\r\n\x1a\n\x00\x00binary")
    assert rows == [] and errors == ["1:missing_column"]


@pytest.mark.postgres
def test_the_command_sets_refuses_and_is_idempotent(
    db_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(prepare(db_url))
    asyncio.run(fill_two_houses(db_url))
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    monkeypatch.setenv("UCHET_TIMEZONE", "Europe/Moscow")
    saldo = tmp_path / "saldo.csv"
    saldo.write_text(
        "лицевой счёт;период;сумма\n"
        f"{CAROL};2025-12;1 250,50\n"  # 2: set
        f"{CAROL};2026-03;100,00\n"  # 3: Carol has accruals of March
        "6900000099;2025-12;10,00\n"  # 4: no such account
        f"{BOB[0]};13.2025;5,00\n"  # 5: no such month
        f"{BOB[0]};2025-09;-300,00\n",  # 6: a credit carried over
        encoding="cp1251",
    )
    assert main(["payments", "opening-debts", str(saldo)]) == 1
    out = capsys.readouterr().out
    assert "новых 2, изменено 0, без изменений 0, отказано 2, строк с ошибкой 1" in out
    assert "line 3: period_billed: account 7700000009 already has accruals of 2026-03" in out
    assert "line 4: unknown_account" in out and "line 5: malformed_period" in out

    async def charges() -> dict[str, dict[int, int]]:
        conn = await asyncpg.connect(db_url)
        try:
            return {a.id: a.charges for a in await load_accounts(conn, date(2026, 6, 30))}
        finally:
            await conn.close()

    book = asyncio.run(charges())
    assert book[CAROL][month_index(2025, 12)] == 125050
    assert book[CAROL][month_index(2026, 3)] == 30000  # the accrual, not the refused row
    assert book[BOB[0]][month_index(2025, 9)] == -30000
    assert main(["payments", "opening-debts", str(saldo)]) == 1
    assert "новых 0, изменено 0, без изменений 2" in capsys.readouterr().out
    # a debt of March set before March was billed: the ledger names it and how to clear it
    asyncio.run(_set(db_url, CAROL, date(2026, 3, 1), Decimal("5.00")))
    with pytest.raises(LedgerError, match=r"7700000009: period 2026-03 has both .* to 0"):
        asyncio.run(charges())
    saldo.write_text(f"account;period;amount\n{CAROL};2026-03;0\n")
    assert main(["payments", "opening-debts", str(saldo)]) == 0
    assert "изменено 1" in capsys.readouterr().out
    assert asyncio.run(charges())[CAROL][month_index(2026, 3)] == 30000
    assert main(["payments", "opening-debts", str(tmp_path / "absent.csv")]) == 1
    assert "absent.csv: ошибка: cannot read" in capsys.readouterr().out


async def _set(url: str, account: str, period: date, amount: Decimal) -> None:
    conn = await asyncpg.connect(url)
    try:
        await set_opening_debt(conn, account, period, amount)
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_a_changed_opening_debt_flags_the_saved_month(db_url: str, tmp_path) -> None:
    await prepare(db_url)
    await fill_two_houses(db_url)
    saldo = tmp_path / "saldo.csv"
    saldo.write_text(f"account;period;amount\n{CAROL};2025-12;10.00\n")
    from ingest.opening_debts import import_opening_debts

    async def run() -> None:
        conn = await asyncpg.connect(db_url)
        try:
            assert (await import_opening_debts(conn, saldo, UNTIL)).ok
        finally:
            await conn.close()

    async def flagged() -> bool:
        conn = await asyncpg.connect(db_url)
        try:
            header = await saved_month(conn, date(2026, 6, 1))
            assert header is not None
            return bool(header["new_opening"])
        finally:
            await conn.close()

    await run()
    await save(db_url, JUNE, batch=100)
    assert not await flagged()
    await run()  # the same amount: nothing changed
    assert not await flagged()
    saldo.write_text(f"account;period;amount\n{CAROL};2025-12;11.00\n")
    await run()
    assert await flagged()


def test_the_debtors_page_names_a_changed_opening_debt() -> None:
    from api.web.debtor_pages import stale_reasons

    saved = {"kind": "saved", "new_payments": 0, "new_accruals": False, "new_key_rates": False,
             "behind": False, "new_opening_debts": False}  # fmt: skip
    assert stale_reasons(saved) == []
    assert stale_reasons({**saved, "new_opening_debts": True}) == [
        "изменились входящие долги (сальдо на начало)"
    ]


@pytest.mark.postgres
async def test_billing_a_month_with_an_opening_debt_of_it_is_refused(db_url: str) -> None:
    from core.errors import BillingError
    from tests.billing_db.convert import SOURCE
    from tests.billing_db.helpers import bill, fetch, load

    await migrate_url(db_url)
    await load(
        db_url,
        {
            "source": SOURCE,
            "houses": [{"id": "h1", "common_area": "100"}],
            "premises": [
                {"id": f"apt{n}", "house": "h1", "area": "50", "residents": 1, "account": a}
                for n, a in ((1, "A-1"), (2, None))
            ],
            "tariffs": [{"valid_from": "2025-01", "cold_water": "40.00"}],
            "normatives": [{"valid_from": "2020-01", "cold_water": "5"}],
        },
    )
    # the old system's debt of January 2026 for A-1 and for apt2 (no account: its premise id)
    await _set(db_url, "A-1", date(2026, 1, 1), Decimal("100.00"))
    await _set(db_url, "apt2", date(2026, 1, 1), Decimal("50.00"))
    await _set(db_url, "A-1", date(2025, 12, 1), Decimal("70.00"))  # before: fine
    with pytest.raises(
        BillingError, match=r"2 account\(s\) have an opening debt of 2026-01.*A-1, apt2"
    ):
        await bill(db_url, "2026-01")
    assert await fetch(db_url, "SELECT 1 FROM accruals") == []
    await _set(db_url, "A-1", date(2026, 1, 1), Decimal("0"))
    await _set(db_url, "apt2", date(2026, 1, 1), Decimal("0"))
    assert (await bill(db_url, "2026-01")).lines == 2
    with pytest.raises(BillingError, match="1 account"):
        await bill(db_url, "2025-12")  # the month of the other debt

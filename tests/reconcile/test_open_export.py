"""``uchet reconcile open`` and ``report --xlsx`` over a real store: an unbilled register row
becomes a premise with the register's figures, once (a repeat opens nothing), the decision is
recorded; the workbook holds every finding with money as numbers; a house whose VEE balance
keeps showing unmetered consumption comes first."""

from __future__ import annotations

import asyncio
import csv
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from openpyxl import load_workbook

from tests.reconcile.test_cli import REGISTER, _run
from tests.reconcile.test_cli import store as store  # the fixture

pytestmark = pytest.mark.postgres


def _import(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str = REGISTER) -> None:
    path = tmp_path / "register.csv"
    path.write_text(text, encoding="utf-8")
    assert _run(["reconcile", "import", str(path)], capsys)[0] == 0


def _findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    out = tmp_path / "f.csv"
    code, _, err = _run(["reconcile", "report", "--on", "2026-03-01", "--csv", str(out)], capsys)
    assert code == 0, err
    with out.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


async def _fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def test_open_an_account_from_an_unbilled_row_once(
    store: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _import(tmp_path, capsys)
    unbilled = next(r for r in _findings(tmp_path, capsys) if r["kind"] == "unbilled")
    code, out, err = _run(["reconcile", "open", unbilled["key"], "--note", "оферта"], capsys)
    assert code == 0, err
    assert "открыт лицевой счёт h1-5 (помещение h1-5)" in out
    (p,) = asyncio.run(_fetch(store, "SELECT * FROM premises WHERE id = 'h1-5'"))
    assert (p["house_id"], p["area"], p["residential"], p["residents"], p["owners"]) == (
        "h1",
        Decimal("38.5"),
        True,
        1,
        1,
    )
    # again: nothing new, the same premise named
    code, out, _ = _run(["reconcile", "open", unbilled["key"], "--account", "999"], capsys)
    assert code == 0 and "лицевой счёт уже открыт: h1-5 (помещение h1-5)" in out
    decided = asyncio.run(
        _fetch(store, "SELECT decision, premise_id, note FROM reconcile_decisions")
    )
    assert [tuple(d) for d in decided] == [("open", "h1-5", "оферта")]
    after = _findings(tmp_path, capsys)
    assert not any(r["kind"] == "unbilled" for r in after)
    # a key that is not an unbilled row: refused, named
    area = next(r for r in after if r["kind"] == "area")
    code, _, err = _run(["reconcile", "open", area["key"]], capsys)
    assert code == 2 and "нет строки реестра без лицевого счёта" in err


def test_the_workbook_holds_every_finding(
    store: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UCHET_PROGRESS", "1")  # the long steps show their bars
    path = tmp_path / "register.csv"
    path.write_text(REGISTER, encoding="utf-8")
    code, _, err = _run(["reconcile", "import", str(path)], capsys)
    assert code == 0 and "импорт реестра" in err and "100/100" in err
    book = tmp_path / "f.xlsx"
    code, _, err = _run(["reconcile", "report", "--on", "2026-03-01", "--xlsx", str(book)], capsys)
    assert code == 0, err
    assert "сверка" in err and "3/3" in err
    rows = list(load_workbook(book, read_only=True).active.iter_rows(values_only=True))
    found = _findings(tmp_path, capsys)
    assert rows[0][:3] == ("№", "Вид расхождения", "Сумма в месяц, ₽")
    assert len(rows) == len(found) + 1
    for sheet_row, csv_row in zip(rows[1:], found, strict=True):
        assert sheet_row[10] == csv_row["key"]
        assert Decimal(str(sheet_row[2])) == Decimal(csv_row["money_rub_month"])
    assert "Расходится площадь" in [r[1] for r in rows]


def test_persistent_unmetered_consumption_puts_a_house_first(
    store: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a second house with one account and an unbilled flat; the register's money in h1 is larger
    extra = (
        '"г. Тверь, ул. Речная, д. 7";1;30;жилое;1;0\n"г. Тверь, ул. Речная, д. 7";2;30;жилое;1;0\n'
    )

    async def setup(days: int, ratio: float) -> None:
        conn = await asyncpg.connect(store)
        try:
            await conn.execute(
                "INSERT INTO houses (id, address, common_area) VALUES"
                " ('h7', 'г. Тверь, ул. Речная, д. 7', 100) ON CONFLICT DO NOTHING;"
                " INSERT INTO premises (id, house_id, account, area) VALUES"
                " ('h7-1', 'h7', 'a71', 30) ON CONFLICT DO NOTHING;"
                " DELETE FROM vee_runs"
            )
            run = await conn.fetchval(
                "INSERT INTO vee_runs (period, started_at, meters, readings, off_grid,"
                " anomalies, estimates, load_s, compute_s, write_s)"
                " VALUES ('2026-02-01', now(), 0, 0, 0, 0, 0, 0, 0, 0) RETURNING id"
            )
            last = date(2026, 2, 28)
            await conn.executemany(
                "INSERT INTO vee_house_balance (period, house_id, service, day, house_volume,"
                " premises_volume, ratio, run_id) VALUES ('2026-02-01', 'h7', 'cold_water', $1,"
                " 10, $2, $3, $4)",
                [(last - timedelta(days=d), 10 * (1 - ratio), ratio, run) for d in range(days)],
            )
        finally:
            await conn.close()

    _import(tmp_path, capsys, REGISTER + extra)
    asyncio.run(setup(days=3, ratio=0.3))  # three days: not persistent
    first = _findings(tmp_path, capsys)[0]
    assert first["house"] == "h1"
    asyncio.run(setup(days=20, ratio=0.3))
    found = _findings(tmp_path, capsys)
    assert found[0]["house"] == "h7" and found[0]["kind"] == "unbilled"
    _, out, _ = _run(["reconcile", "report", "--on", "2026-03-01", "--limit", "1"], capsys)
    houses = out.split("ОДН, начисленные не тем помещениям):")[1].splitlines()
    assert houses[1].startswith("  h7:") and "неучтённое потребление" in houses[1]
    asyncio.run(setup(days=20, ratio=0.01))  # balanced within 5 %: back to money order
    assert _findings(tmp_path, capsys)[0]["house"] == "h1"


def test_register_text_is_never_a_formula_in_the_exports() -> None:
    import io as _io

    from adapters.property.export import write_csv, xlsx_bytes
    from core.reconcile import Finding

    evil = Finding("unbilled", Decimal("12.30"), "-1+1", "h1", None, None, "f.csv, row 2",
                   '=HYPERLINK("http://x","y")', 95.0, "addr:x|1")  # fmt: skip
    out = _io.StringIO()
    write_csv([evil], out)
    line = out.getvalue().splitlines()[1]
    assert "'=HYPERLINK" in line and ",'-1+1," in line and ",12.30," in line
    sheet = load_workbook(_io.BytesIO(xlsx_bytes([evil]))).active
    row = next(sheet.iter_rows(min_row=2, values_only=True))
    assert row[7] == '\'=HYPERLINK("http://x","y")' and row[9] == "'-1+1"
    assert Decimal(str(row[2])) == Decimal("12.30")

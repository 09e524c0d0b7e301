"""``uchet payments ...`` and ``uchet key-rate ...`` on a real PostgreSQL: registers imported
idempotently on the payment id, bad rows kept with file and line, unknown accounts kept apart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from api.cli import main

pytestmark = pytest.mark.postgres


def _sql(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    return asyncio.run(go())


@pytest.fixture
def store(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    assert main(["migrate"]) == 0
    _sql(db_url, "INSERT INTO houses (id) VALUES ('h1')")
    _sql(
        db_url,
        "INSERT INTO premises (id, house_id, account, area) VALUES"
        " ('apt1', 'h1', '100001', 50), ('apt2', 'h1', '100002', 40), ('apt3', 'h1', NULL, 30)",
    )
    capsys.readouterr()
    return db_url


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


GOOD = "05-03-2026;10-15-42;7701;1;9001;100001;ИВАНОВ И И;ЛЕНИНА 1-5;022026;3000,00;2970,00;30,00"
ROWS = [
    GOOD,
    "05-03-2026;10-16-00;7701;1;9002;999999;ПЕТРОВ;УЛ ЛЕНИНА 9;022026;150,50;149,00;1,50",
    "06-03-2026;11-00-00;7701;1;9003;100002;СИДОРОВ;УЛ ЛЕНИНА 2;022026;12,345;12,00;0,34",
    "31-02-2026;11-00-00;7701;1;9004;100002;СИДОРОВ;УЛ ЛЕНИНА 2;022026;100,00;99,00;1,00",
    "07-03-2026;12-00-00;7701;1;9005;apt3;КУЗНЕЦОВ;УЛ ЛЕНИНА 3;;200,00;198,00;2,00",
    "=5;3350,50;3317,00;33,50",
]


def _register(tmp_path: Path, rows: list[str], name: str = "sber_0503.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1251"))
    return path


def test_register_import_is_idempotent_and_keeps_bad_rows_and_strangers_apart(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _register(tmp_path, ROWS)
    code, out, _ = _run(["payments", "import", str(path)], capsys)
    assert code == 1  # rows were rejected
    assert "3 payments read: 2 recorded" in out and "1 for unknown accounts" in out
    assert f"{path}: line 3: malformed_amount" in out
    assert f"{path}: line 4: malformed_date" in out
    payments = _sql(store, "SELECT id, account, day, amount, period FROM payments ORDER BY id")
    assert [(r["id"], r["account"], str(r["amount"])) for r in payments] == [
        ("sber:7701/9001", "100001", "3000.00"),
        ("sber:7701/9005", "apt3", "200.00"),
    ]
    assert str(payments[0]["period"]) == "2026-02-01" and payments[1]["period"] is None
    apart = _sql(store, "SELECT id, account, line FROM unassigned_payments")
    assert [tuple(r) for r in apart] == [("sber:7701/9002", "999999", 2)]
    rejects = _sql(store, "SELECT source, line, reason FROM payment_rejects ORDER BY line")
    assert [tuple(r) for r in rejects] == [
        ("sber_0503.txt", 3, "malformed_amount"),
        ("sber_0503.txt", 4, "malformed_date"),
    ]

    # the same file again: nothing new anywhere
    code, out, _ = _run(["payments", "import", str(path)], capsys)
    assert "0 recorded, 3 already recorded" in out
    assert len(_sql(store, "SELECT * FROM payments")) == 2
    assert len(_sql(store, "SELECT * FROM unassigned_payments")) == 1
    assert len(_sql(store, "SELECT * FROM payment_rejects")) == 2

    # the same id with another amount is a conflict, reported and not applied
    changed = _register(tmp_path, [GOOD.replace("3000,00", "3100,00")], "sber_again.txt")
    code, out, _ = _run(["payments", "import", str(changed)], capsys)
    assert code == 1 and "payment sber:7701/9001: already recorded with other data" in out
    assert str(_sql(store, "SELECT amount FROM payments WHERE id = 'sber:7701/9001'")[0][0]) == (
        "3000.00"
    )

    # an operator assigns the stranger's payment
    code, out, err = _run(["payments", "assign", "sber:7701/9002", "100002"], capsys)
    assert code == 0, err
    assert _sql(store, "SELECT account FROM payments WHERE id = 'sber:7701/9002'")[0][0] == "100002"
    assert _sql(store, "SELECT * FROM unassigned_payments") == []
    code, _, err = _run(["payments", "assign", "sber:7701/9002", "100002"], capsys)
    assert code != 0 and "not among the unassigned" in err


def test_a_summary_line_that_disagrees_is_a_warning(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _register(tmp_path, [GOOD, "=2;3000,00;2970,00;30,00"])
    _, out, _ = _run(["payments", "import", str(path)], capsys)
    assert "warning: the register's totals line says 2 rows" in out
    assert len(_sql(store, "SELECT * FROM payments")) == 1


def test_csv_mapping_and_a_missing_file(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(
        "id,account,date,amount,period,to\n"
        "b1,100001,2026-03-05,10.00,2026-02,penalty\n"
        "b2,100001,2026-03-05,10.00,2026-13,\n",
        encoding="utf-8",
    )
    code, out, _ = _run(
        ["payments", "import", "--mapping", "csv", str(path), str(tmp_path / "none.csv")], capsys
    )
    assert code == 1
    assert f"{path}: line 3: malformed_period" in out
    assert "none.csv: error: cannot read" in out
    rows = _sql(store, "SELECT id, target FROM payments")
    assert [tuple(r) for r in rows] == [("b1", "penalty")]


def test_one_payment_and_key_rates(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["payments", "add", "--account", "100002", "--date", "2026-03-10"]
    code, out, err = _run([*argv, "--amount", "500.00", "--id", "m1"], capsys)
    assert code == 0, err
    assert "payment m1 recorded" in out
    code, out, _ = _run([*argv, "--amount", "500.00", "--id", "m1"], capsys)
    assert "already recorded" in out
    code, _, err = _run([*argv, "--amount", "500.0"], capsys)
    assert code != 0 and "--amount" in err
    code, out, _ = _run(
        ["payments", "add", "--account", "777", "--date", "2026-03-10", "--amount", "1.00"],
        capsys,
    )
    assert "account 777 is unknown" in out

    code, out, err = _run(["key-rate", "add", "2026-12-21", "15.50"], capsys)
    assert code == 0, err
    code, out, _ = _run(["key-rate", "list"], capsys)
    lines = out.splitlines()
    assert lines[-1] == "2026-12-21\t15.50\tadded"
    assert "2025-09-15\t17.00\tshipped" in lines
    code, _, err = _run(["key-rate", "add", "2026-12-21", "abc"], capsys)
    assert code != 0 and "percent" in err

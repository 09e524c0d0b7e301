"""The database mode (``uchet ledger --month``) gives what the case mode gives for the same
charges, payments and rates put into the store."""

from __future__ import annotations

import copy
import json
from typing import Any

import asyncpg
import pytest

from api.cli import main
from api.commands.ledger import ledger_month
from api.runtime import migrate_url
from core.ledger import ledger_case
from core.ledger.dates import parse_period
from tests.ledger.convert import case_to_store
from tests.ledger.test_case_cli import _shared

pytestmark = pytest.mark.postgres

SECOND = {
    "id": "200002",
    "charges": [["2026-01", "1000.00"], ["2026-02", "-1500.00"], ["2026-03", "800.00"]],
    "payments": [
        {"id": "q1", "date": "2026-01-20", "amount": "300.00"},
        {"id": "q2", "date": "2026-05-03", "amount": "100.00", "period": "2026-03"},
        {"id": "q3", "date": "2026-06-01", "amount": "5.00", "to": "penalty"},
    ],
}


def _case() -> dict[str, Any]:
    case: dict[str, Any] = copy.deepcopy(_shared("basic-account.json"))
    case["accounts"].append(SECOND)
    return case


async def test_database_mode_equals_case_mode(db_url: str) -> None:
    case = _case()
    expected = ledger_case(case)
    await migrate_url(db_url)
    conn = await asyncpg.connect(db_url)
    try:
        await case_to_store(conn, case)
        for i, month in enumerate(case["statements"]):
            got = await ledger_month(conn, parse_period(month, "month"))
            assert [a["id"] for a in got["accounts"]] == ["100001", "200002"]
            for account, want in zip(got["accounts"], expected["accounts"], strict=True):
                assert account["statements"] == [want["statements"][i]], (month, account["id"])
    finally:
        await conn.close()


def test_ledger_command_prints_the_month(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    async def fill() -> None:
        await migrate_url(db_url)
        conn = await asyncpg.connect(db_url)
        try:
            await case_to_store(conn, _case())
        finally:
            await conn.close()

    asyncio.run(fill())
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    assert main(["ledger", "--month", "2026-06", "--account", "100001"]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = _shared("basic-account.expected.json")["accounts"][0]["statements"][-1]
    assert out == {"accounts": [{"id": "100001", "statements": [expected]}]}

"""The claims workflow on a real PostgreSQL, over HTTP and the CLI: a claim opened for a debtor
snapshots the ledger's overdue debt and penalty at each stage, moves only forward, keeps who
recorded what, keeps its letter, and closes once the debt is paid."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters.payments.register import PaymentRow
from adapters.store.claims import add_event, count_claims
from adapters.store.ledger import record_payments
from api.cli import main
from api.routes.ledger_data import months
from core.ledger.claims import ClaimError, StageEvent
from core.ledger.dates import parse_day, parse_period
from core.ledger.money import format_money, parse_money
from ingest import settling
from tests.api.conftest import ALICE, BOB, Env, env, prepare  # noqa: F401  (the fixture)
from tests.ledger.test_epd_store import PAYEE, fill_with_payments

pypdf = pytest.importorskip("pypdf", reason="pypdf (test extra) reads the PDF's text")

pytestmark = pytest.mark.postgres
URL = "/v1/operator/claims"


async def ledger_figures(url: str, account: str, day: str) -> tuple[str, str]:
    """The overdue debt and penalty due of the ledger's statement on ``day``."""
    d = parse_day(day, "day")
    conn = await asyncpg.connect(url)
    try:
        (m,) = await months(conn, parse_period(day[:7], "m"), d, keys=[account])
    finally:
        await conn.close()
    s = m.statement
    overdue = sum(p.debt for p in s.periods if p.debt > 0 and d > p.due)
    return format_money(overdue), format_money(s.penalty_due)


async def _kept(url: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT event_id, sha256, created_at FROM claim_documents")
    finally:
        await conn.close()
    return sorted(tuple(r) for r in rows)


async def test_a_claim_over_http(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    (tmp_path / "payee.json").write_text(json.dumps(PAYEE), encoding="utf-8")
    monkeypatch.setenv("UCHET_HOME", str(tmp_path))
    await fill_with_payments(env.url)
    c = env.client
    r = await c.get(f"{URL}/candidates?min_debt=100.00&min_days=30", headers=env.viewer)
    assert r.status_code == 200, r.text
    assert {x["account"] for x in r.json()} == {ALICE[0], BOB[0]}
    assert r.json()[0]["account"] == ALICE[0]  # the biggest debt first
    r = await c.get(f"{URL}/candidates?min_debt=12.345", headers=env.viewer)
    assert r.status_code == 422 and "min_debt" in r.json()["detail"]
    # rubles as typed: a space between thousands, a comma
    r = await c.get(f"{URL}/candidates", params={"min_debt": "1 000,5"}, headers=env.viewer)
    assert [x["account"] for x in r.json()] == [ALICE[0]]  # Bob owes 500.00
    body = {"account": ALICE[0], "date": "2026-05-04", "note": "первое письмо"}
    assert (await c.post(URL, json=body, headers=env.viewer)).status_code == 403
    r = await c.post(URL, json=body, headers=env.operator)
    assert r.status_code == 201, r.text
    claim = r.json()
    assert claim["stage"] == "notice" and claim["stage_on"] == "2026-05-04"
    assert (claim["debt"], claim["penalty"]) == await ledger_figures(
        env.url, ALICE[0], "2026-05-04"
    )
    assert claim["debt"] == "1800.00"  # February's 1000.00 and March's 800.00, both overdue
    cid = claim["id"]
    r = await c.post(URL, json=body, headers=env.operator)
    assert r.status_code == 409 and f"№ {cid}" in r.json()["detail"]
    r = await c.post(URL, json={"account": "nobody"}, headers=env.operator)
    assert r.status_code == 404
    r = await c.post(URL, json={"account": BOB[0], "date": "2100-01-01"}, headers=env.operator)
    assert r.status_code == 422 and "не наступила" in r.json()["detail"]
    r = await c.post(URL, json={"account": BOB[0], "date": "2026-02-30"}, headers=env.operator)
    assert r.status_code == 422

    step = f"{URL}/{cid}/advance"
    r = await c.post(step, json={"stage": "writ", "date": "2026-06-01"}, headers=env.operator)
    assert r.status_code == 409 and "после суда" in r.json()["detail"]
    r = await c.post(step, json={"stage": "warning", "date": "2026-05-01"}, headers=env.operator)
    assert r.status_code == 422 and "раньше" in r.json()["detail"]
    r = await c.post(step, json={"stage": "prison"}, headers=env.operator)
    assert r.status_code == 422
    r = await c.post(step, json={"stage": "warning", "date": "2026-06-10"}, headers=env.viewer)
    assert r.status_code == 403
    r = await c.post(step, json={"stage": "warning", "date": "2026-06-10"}, headers=env.operator)
    assert r.status_code == 200, r.text
    warned = r.json()
    assert (warned["debt"], warned["penalty"]) == await ledger_figures(
        env.url, ALICE[0], "2026-06-10"
    )
    assert Decimal(warned["penalty"]) > Decimal(claim["penalty"])
    r = await c.get(f"{URL}/candidates?min_debt=100.00&min_days=30", headers=env.viewer)
    assert [x["account"] for x in r.json()] == [BOB[0]]  # Alice has an open claim
    # a second operator's move based on the notice stage (already moved on) is a conflict
    conn = await asyncpg.connect(env.url)
    try:
        late = StageEvent("lawyers", parse_day("2026-06-11", "d"), 180000, 0)
        with pytest.raises(ClaimError, match="изменилась") as err:
            await add_event(conn, cid, "notice", late, "test", None)
        assert err.value.kind == "conflict"
    finally:
        await conn.close()

    r = await c.get(f"{URL}/{cid}", headers=env.viewer)
    events = r.json()["events"]
    assert [e["stage"] for e in events] == ["notice", "warning"]
    assert events[0]["note"] == "первое письмо" and events[0]["actor"].startswith("api:api_key:")
    assert (await c.get(f"{URL}/999999", headers=env.viewer)).status_code == 404
    r = await c.get(f"{URL}?stage=warning", headers=env.viewer)
    assert [x["id"] for x in r.json()] == [cid] and r.json()[0]["house"] == "h1"
    assert (await c.get(f"{URL}?stage=notice", headers=env.viewer)).json() == []
    assert (await c.get(f"{URL}?house=h2", headers=env.viewer)).json() == []

    r = await c.get(f"{URL}/{cid}/letter.pdf", headers=env.viewer)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = " ".join(pypdf.PdfReader(io.BytesIO(r.content)).pages[0].extract_text().split())
    assert "Предупреждение о приостановлении" in text and f"Лицевой счёт: {ALICE[0]}" in text
    assert f"Пени к оплате {warned['penalty']}" in text
    again = await c.get(f"{URL}/{cid}/letter.pdf", headers=env.viewer)
    assert again.content == r.content  # the kept letter, not a new drawing
    assert (
        await c.get(f"{URL}/{cid}/letter.pdf?fresh=true", headers=env.viewer)
    ).status_code == 403
    kept_at = await _kept(env.url)
    redrawn = await c.get(f"{URL}/{cid}/letter.pdf?fresh=true", headers=env.operator)
    assert redrawn.status_code == 200 and redrawn.content.startswith(b"%PDF")
    assert "-redrawn.pdf" in redrawn.headers["content-disposition"]
    # what was sent stays kept: a letter drawn again is not stored over it
    assert await _kept(env.url) == kept_at
    assert (await c.get(f"{URL}/{cid}/letter.pdf", headers=env.viewer)).content == r.content
    r = await c.get(f"{URL}/{cid}", headers=env.viewer)
    assert r.json()["events"][1]["letter"] == f"claim-{cid}-warning-{ALICE[0]}.pdf"

    close = f"{URL}/{cid}/close"
    r = await c.post(close, json={"reason": "paid", "date": "2026-06-20"}, headers=env.operator)
    assert r.status_code == 409 and "не погашен" in r.json()["detail"]
    conn = await asyncpg.connect(env.url)
    try:
        row = PaymentRow("all", ALICE[0], date(2026, 6, 15), 180000, None, "charges", 0)
        assert (await record_payments(conn, [row], "test")).recorded == ["all"]
    finally:
        await conn.close()
    r = await c.post(close, json={"reason": "paid", "date": "2026-06-20"}, headers=env.operator)
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "closed" and r.json()["debt"] == "0.00"
    r = await c.post(step, json={"stage": "court"}, headers=env.operator)
    assert r.status_code == 409
    assert (await c.get(URL, headers=env.viewer)).json() == []
    closed = (await c.get(f"{URL}?closed=true", headers=env.viewer)).json()
    assert [(x["id"], x["close_reason"]) for x in closed] == [(cid, "paid")]
    # a new claim for the account may be opened once the old one is closed (debt permitting)
    r = await c.post(URL, json={"account": ALICE[0], "date": "2026-06-20"}, headers=env.operator)
    assert r.status_code == 409 and "нет просроченного долга" in r.json()["detail"]

    conn = await asyncpg.connect(env.url)
    try:
        rows = await conn.fetch(
            "SELECT stage, day, debt, penalty FROM claim_events WHERE claim_id = $1 ORDER BY id",
            cid,
        )
        kept = await conn.fetchval("SELECT count(*) FROM claim_documents")
    finally:
        await conn.close()
    assert [(r["stage"], str(r["day"]), str(r["debt"])) for r in rows] == [
        ("notice", "2026-05-04", "1800.00"),
        ("warning", "2026-06-10", "1800.00"),
        ("closed", "2026-06-20", "0.00"),
    ]
    assert str(rows[1]["penalty"]) == warned["penalty"] and kept == 1


def test_the_claims_command(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asyncio.run(prepare(db_url))
    asyncio.run(fill_with_payments(db_url))
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    (tmp_path / "payee.json").write_text(json.dumps(PAYEE), encoding="utf-8")
    monkeypatch.setenv("UCHET_HOME", str(tmp_path))
    assert main(["claims", "candidates", "--min-debt", "600.00", "--min-days", "30",
                 "--date", "2026-05-04"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    # Alice owes 1800.00 (February 50 days overdue); Bob 500.00 is below the minimum
    assert f"{ALICE[0]}\tдолг 1800.00 ₽" in out and BOB[0] not in out
    assert "должников для уведомления на 2026-05-04: 1" in out
    assert main(["claims", "open", BOB[0], "--date", "2026-05-04", "--note", "л/с Боба"]) == 0
    out = capsys.readouterr().out
    assert "Уведомление (претензия) с 2026-05-04" in out and "долг 500.00 ₽" in out
    (cid,) = [int(w) for w in out.split("№ ")[1].split()[:1]]
    assert main(["claims", "advance", str(cid), "court", "--date", "2026-06-01",
                 "--document", "дело № 2-15/2026"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Иск / заявление о судебном приказе" in out and "дело № 2-15/2026" in out
    assert main(["claims", "advance", str(cid), "warning", "--date", "2026-06-02"]) == 2
    assert "только вперёд" in capsys.readouterr().err
    assert main(["claims", "list", "--stage", "court"]) == 0
    out = capsys.readouterr().out
    assert f"№ {cid}\t{BOB[0]}" in out and "претензий: 1" in out
    pdf = tmp_path / "letter.pdf"
    assert main(["claims", "letter", str(cid), "-o", str(pdf)]) == 0
    text = pypdf.PdfReader(str(pdf)).pages[0].extract_text()
    assert "Уведомление об обращении в суд" in text and "Приложение: расчёт пени" in text
    assert main(["claims", "close", str(cid), "written_off"]) == 2
    assert "основание" in capsys.readouterr().err
    assert main(["claims", "close", str(cid), "written_off", "--note", "срок давности"]) == 0
    assert main(["claims", "show", str(cid)]) == 0
    out = capsys.readouterr().out
    assert "Закрыта" in out and "долг списан" in out and "срок давности" in out


async def _many_claims(url: str, count: int, later: int) -> None:
    """``count`` open claims at the notice stage, then ``later`` at the writ stage dated after
    them all (the list's order puts them last)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO claims (account, stage, opened_on, stage_on, debt, penalty)"
            " SELECT 'many-' || i, CASE WHEN i > $1 THEN 'writ' ELSE 'notice' END,"
            " date '2026-01-01', date '2026-01-01' + (i / 100), 1000.00, 10.00"
            " FROM generate_series(1, $2) i",
            count,
            count + later,
        )
    finally:
        await conn.close()


async def test_more_claims_than_a_page(env: Env) -> None:  # noqa: F811
    """Beyond the first 1,000 claims nothing is lost: each stage's count and the total are the
    store's, a later stage lists its claims, and the list pages with its total in a header."""
    await _many_claims(env.url, 1100, 105)
    c = env.client
    r = await c.get(f"{URL}?stage=writ", headers=env.viewer)
    assert r.status_code == 200 and r.headers["x-total-count"] == "105"
    assert len(r.json()) == 105 and {x["stage"] for x in r.json()} == {"writ"}
    r = await c.get(URL, headers=env.viewer)
    assert r.headers["x-total-count"] == "1205" and len(r.json()) == 1000
    rest = await c.get(f"{URL}?offset=1000&limit=1000", headers=env.viewer)
    ids = [x["id"] for x in r.json()] + [x["id"] for x in rest.json()]
    assert len(rest.json()) == 205 and len(set(ids)) == 1205
    r = await c.get(f"{URL}?stage=notice&offset=1090&limit=50", headers=env.viewer)
    assert r.headers["x-total-count"] == "1100" and len(r.json()) == 10
    r = await c.get(f"{URL}?closed=true", headers=env.viewer)
    assert r.headers["x-total-count"] == "0" and r.json() == []
    for bad in ("offset=-1", f"offset={2**31}", "limit=0", "limit=10001"):
        assert (await c.get(f"{URL}?{bad}", headers=env.viewer)).status_code == 422, bad
    conn = await asyncpg.connect(env.url)
    try:
        assert await count_claims(conn) == {"notice": 1100, "writ": 105}
        assert await count_claims(conn, house="h1") == {}  # no premises of these accounts
        assert await count_claims(conn, closed=True) == {}
    finally:
        await conn.close()


def test_the_claims_command_lists_a_page_of_all(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(prepare(db_url))
    asyncio.run(_many_claims(db_url, 1100, 105))
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    assert main(["claims", "list", "--stage", "writ", "--offset", "100"]) == 0
    out = capsys.readouterr().out
    assert out.count("many-") == 5 and "претензий: 105 (показаны 101–105)" in out
    assert main(["claims", "list"]) == 0
    assert "претензий: 1205 (показаны 1–1000)" in capsys.readouterr().out
    assert main(["claims", "list", "--limit", "0"]) == 2
    assert "--limit" in capsys.readouterr().err


async def test_a_letter_drawn_after_late_entries_asks_what_was_recorded(
    env: Env,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A payment dated before the stage but recorded after it changes the ledger as of the
    stage's day: the letter still asks for the stage's recorded figures and says so."""
    (tmp_path / "payee.json").write_text(json.dumps(PAYEE), encoding="utf-8")
    monkeypatch.setenv("UCHET_HOME", str(tmp_path))
    await fill_with_payments(env.url)
    c = env.client
    body = {"account": BOB[0], "date": "2026-05-04"}
    r = await c.post(URL, json=body, headers=env.operator)
    assert r.status_code == 201, r.text
    cid, recorded = r.json()["id"], r.json()
    conn = await asyncpg.connect(env.url)
    try:
        row = PaymentRow("late", BOB[0], date(2026, 5, 1), 20000, None, "charges", 0)
        assert (await record_payments(conn, [row], "test")).recorded == ["late"]
    finally:
        await conn.close()
    r = await c.get(f"{URL}/{cid}/letter.pdf", headers=env.viewer)
    assert r.status_code == 200, r.text
    text = " ".join(pypdf.PdfReader(io.BytesIO(r.content)).pages[0].extract_text().split())
    assert f"Просроченная задолженность {recorded['debt']}" in text
    total = parse_money(recorded["debt"], "debt") + parse_money(recorded["penalty"], "penalty")
    assert f"Итого к оплате {format_money(total)}" in text
    assert "с учётом записей, внесённых позже: долг 300.00 ₽" in text


async def test_candidates_settle_the_store_once_off_the_event_loop(
    env: Env,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finding the debtors reads the accounts and the key rates once and settles them in a
    worker thread, not on the event loop the API answers on."""
    await fill_with_payments(env.url)
    loop_thread = threading.get_ident()
    worked_in: set[int] = set()
    reads: list[object] = []
    each = settling._each
    load = settling.load_accounts  # type: ignore[attr-defined]

    def spy_each(*a: Any) -> Any:
        worked_in.add(threading.get_ident())
        return each(*a)

    async def spy_load(*a: Any) -> Any:
        reads.append(a[2])
        return await load(*a)

    monkeypatch.setattr(settling, "_each", spy_each)
    monkeypatch.setattr(settling, "load_accounts", spy_load)
    r = await env.client.get(f"{URL}/candidates?min_debt=100.00&min_days=30", headers=env.viewer)
    assert {x["account"] for x in r.json()} == {ALICE[0], BOB[0]}
    assert reads == [None] and worked_in and loop_thread not in worked_in

"""``/v1/operator/reconcile/*`` on a real store with the documented example house: a viewer reads
the report (paged, filtered) and its exports, only an operator uploads a register and decides;
decisions change the next report; opening an account is idempotent."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.api.conftest import Env
from tests.api.conftest import env as env  # the fixture
from tests.reconcile.test_cli import REGISTER

pytestmark = pytest.mark.postgres
BASE = "/v1/operator/reconcile"


async def _upload(e: Env, headers: dict[str, str]) -> object:
    files = {"file": ("register.csv", REGISTER.encode("windows-1251"), "text/csv")}
    return await e.client.post(f"{BASE}/register", files=files, headers=headers)


async def _report(e: Env, **params: object) -> dict[str, object]:
    r = await e.client.get(f"{BASE}/report", params=params, headers=e.viewer)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_viewer_reads_operator_decides(env: Env) -> None:
    r = await env.client.get(f"{BASE}/report", headers=env.viewer)
    assert r.status_code == 422 and "uchet reconcile import" in r.json()["detail"]
    assert (await _upload(env, env.viewer)).status_code == 403  # type: ignore[attr-defined]
    r = await _upload(env, env.operator)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["rows"] == 5 and "register.csv, row 6" in body["problems"][0]

    rep = await _report(env)
    kinds = [f["kind"] for f in rep["findings"]]  # type: ignore[union-attr,index]
    assert rep["total"] == len(kinds) and set(kinds) == {"unbilled", "area", "residents", "review"}
    moneys = [Decimal(f["money"]) for f in rep["findings"]]  # type: ignore[union-attr,index]
    assert moneys == sorted(moneys, reverse=True)
    assert [f["rank"] for f in rep["findings"]] == list(range(1, len(kinds) + 1))  # type: ignore[union-attr,index]
    page = await _report(env, offset=1, limit=2)
    assert [f["rank"] for f in page["findings"]] == [2, 3]  # type: ignore[union-attr,index]
    only = await _report(env, kind="area")
    assert only["total"] == 1 and only["findings"][0]["premise"] == "h1-2"  # type: ignore[index]
    assert (await _report(env, house="nope"))["total"] == 0
    bad = await env.client.get(f"{BASE}/report", params={"kind": "x"}, headers=env.viewer)
    assert bad.status_code == 422

    r = await env.client.get(f"{BASE}/report.csv", params={"kind": "area"}, headers=env.viewer)
    assert r.status_code == 200 and r.text.splitlines()[0].startswith("rank,kind,money_rub_month")
    assert len(r.text.splitlines()) == 2 and "h1-2" in r.text
    r = await env.client.get(f"{BASE}/report.xlsx", headers=env.viewer)
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert len(rows) == len(kinds) + 1
    assert (await env.client.get(f"{BASE}/report.pdf", headers=env.viewer)).status_code == 404

    review = next(f for f in rep["findings"] if f["kind"] == "review")  # type: ignore[union-attr]
    unbilled = next(f for f in rep["findings"] if f["kind"] == "unbilled")  # type: ignore[union-attr]
    area = next(f for f in rep["findings"] if f["kind"] == "area")  # type: ignore[union-attr]
    body = {"key": review["key"], "premise": "h1-shop"}
    assert (
        await env.client.post(f"{BASE}/confirm", json=body, headers=env.viewer)
    ).status_code == 403
    r = await env.client.post(f"{BASE}/confirm", json=body, headers=env.operator)
    assert r.status_code == 201, r.text
    r = await env.client.post(
        f"{BASE}/confirm", json={**body, "premise": "nope"}, headers=env.operator
    )
    assert r.status_code == 422 and "nope" in r.json()["detail"]
    r = await env.client.post(
        f"{BASE}/check", json={"kind": "area", "key": area["key"]}, headers=env.operator
    )
    assert r.status_code == 201
    # the next report: the shop matched, the area finding gone (the cache sees the decisions)
    after = {f["kind"] for f in (await _report(env))["findings"]}  # type: ignore[union-attr]
    assert after == {"unbilled", "residents"}

    r = await env.client.post(f"{BASE}/open", json={"key": area["key"]}, headers=env.operator)
    assert r.status_code == 404
    r = await env.client.post(
        f"{BASE}/open", json={"key": unbilled["key"], "account": "7000"}, headers=env.operator
    )
    assert r.status_code == 201, r.text
    assert (r.json()["premise"], r.json()["account"], r.json()["created"]) == ("h1-5", "7000", True)
    again = await env.client.post(
        f"{BASE}/open", json={"key": unbilled["key"]}, headers=env.operator
    )
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["decision"] == r.json()["decision"]
    final = await _report(env)
    assert {f["kind"] for f in final["findings"]} == {"residents"}  # type: ignore[union-attr]
    assert final["matched"] == 5

"""Operators: reference data, binding meters with replay of their quarantine, billing, house
balance, ingestion statistics, anomalies, and /metrics."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from adapters.store.writer import QuarantineRow
from tests.api.conftest import ALICE, HOUSE, Env
from tests.intake_tools import HISTORY_DAYS
from tests.samples import askue_sample

pytestmark = pytest.mark.postgres


async def test_reference_upload_upserts_and_a_bad_file_loads_nothing(env: Env) -> None:
    doc = json.loads(HOUSE.read_text(encoding="utf-8"))
    same = await env.client.post("/v1/operator/reference", json=doc, headers=env.operator)
    assert same.status_code == 200
    assert same.json()["counts"]["premises"] == {"created": 0, "updated": 0, "unchanged": 4}
    changed = copy.deepcopy(doc)
    changed["tariffs"].append({"valid_from": "2026-09", "electricity": "5.50"})
    changed["premises"][1]["area"] = "46"
    r = await env.client.post("/v1/operator/reference", json=changed, headers=env.operator)
    assert r.json()["counts"]["tariffs"]["created"] == 1
    assert r.json()["counts"]["premises"]["updated"] == 1

    bad = copy.deepcopy(changed)
    bad["tariffs"].append({"valid_from": "2026-10", "electricity": "6.00"})
    bad["premises"][0]["area"] = 60.4  # a float: refused
    r = await env.client.post("/v1/operator/reference", json=bad, headers=env.operator)
    assert r.status_code == 422
    assert r.json()["type"] == "urn:uchet:problem:billing-data-invalid"
    assert "h1-1" in r.json()["detail"] and "area" in r.json()["detail"]
    conn = await asyncpg.connect(env.url)
    try:
        october = await conn.fetchval(
            "SELECT count(*) FROM tariffs WHERE valid_from = '2026-10-01'"
        )
    finally:
        await conn.close()
    assert october == 0
    r = await env.client.post("/v1/operator/reference", json=[1, 2], headers=env.operator)
    assert r.status_code == 422


async def test_binding_an_unbound_meter_replays_its_quarantine(env: Env) -> None:
    store = env.app.state.services.store
    key = ("mqtt", "new-cw", "cold_water")
    meter = (await store.resolve([key], register=True))[key]
    ts = datetime.now(UTC) - timedelta(hours=1)
    payload = json.dumps(
        {"meter": "new-cw", "channel": "cold_water", "ts": ts.isoformat(), "value": 12.5,
         "unit": "m3"}
    ).encode()  # fmt: skip
    await store.write(
        [],
        [QuarantineRow("mqtt", "unknown_meter", "meter 'new-cw' unknown", "new-cw",
                       "cold_water", payload)],
        source="mqtt",
    )  # fmt: skip
    unbound = await env.client.get("/v1/operator/meters?unbound=true", headers=env.viewer)
    assert [(m["serial"], m["quarantined"]) for m in unbound.json()] == [("new-cw", 1)]

    r = await env.client.post(
        f"/v1/operator/meters/{meter.id}/bind", json={"premise": "h1-2"}, headers=env.operator
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["meter"]["premise"] == "h1-2" and body["meter"]["quarantined"] == 0
    assert body["replay"]["replayed"] == 1 and body["replay"]["stored"] == 1
    assert (
        await env.client.get("/v1/operator/meters?unbound=true", headers=env.viewer)
    ).json() == []

    again = await env.client.post(
        f"/v1/operator/meters/{meter.id}/bind", json={"premise": "h1-2"}, headers=env.operator
    )
    assert again.json()["replay"]["replayed"] == 0
    for body, status in (
        ({"premise": "nowhere"}, 404),
        ({"premise": "h1-2", "house": "h1"}, 422),
        ({}, 422),
    ):
        r = await env.client.post(
            f"/v1/operator/meters/{meter.id}/bind", json=body, headers=env.operator
        )
        assert r.status_code == status, body
    r = await env.client.post(
        "/v1/operator/meters/999999/bind", json={"house": "h1"}, headers=env.operator
    )
    assert r.status_code == 404
    conn = await asyncpg.connect(env.url)
    try:
        stored = await conn.fetchval("SELECT value FROM readings WHERE meter_id = $1", meter.id)
    finally:
        await conn.close()
    assert stored == 12.5


async def test_billing_balance_stats_anomalies_quarantine(env: Env) -> None:
    r = await env.client.post("/v1/operator/billing/2026-03", headers=env.operator)
    assert r.status_code == 200
    bill = r.json()
    assert bill["period"] == "2026-03" and bill["premises"] == 4
    from decimal import Decimal

    assert Decimal(bill["total"]) == sum(Decimal(s["amount"]) for s in bill["services"])
    again = (await env.client.post("/v1/operator/billing/2026-03", headers=env.operator)).json()
    assert again["total"] == bill["total"] and again["run_id"] != bill["run_id"]

    balance = await env.client.get(
        "/v1/operator/houses/h1/balance?period=2026-03", headers=env.viewer
    )
    assert balance.status_code == 200
    assert balance.json() and {b["period"] for b in balance.json()} == {"2026-03"}

    no_tariff = await env.client.post("/v1/operator/billing/2020-01", headers=env.operator)
    assert no_tariff.status_code == 422
    assert no_tariff.json()["type"] == "urn:uchet:problem:billing-data-invalid"

    stats = (await env.client.get("/v1/operator/stats", headers=env.viewer)).json()
    assert stats["meters"] == 8 and stats["readings"] == 0
    anomalies = await env.client.get("/v1/operator/anomalies?period=2026-03", headers=env.viewer)
    assert anomalies.status_code == 200 and anomalies.json() == []
    quarantine = await env.client.get("/v1/operator/quarantine", headers=env.viewer)
    assert quarantine.status_code == 200 and quarantine.json() == []


async def test_metrics_count_requests_and_submissions(env: Env) -> None:
    headers = await env.login(ALICE)
    meter = (await env.meters(headers))["apt1-el"]
    now = datetime.now(UTC)
    for value, days in ((10.0, 3), (11.0, 2), (5.0, 1)):
        await env.client.post(
            f"/v1/resident/meters/{meter}/readings",
            json={"value": value, "taken_at": (now - timedelta(days=days)).isoformat()},
            headers=headers,
        )
    text = (await env.client.get("/metrics")).text
    assert 'uchet_submissions_total{outcome="accepted"} 2.0' in text
    assert 'uchet_submissions_total{outcome="rejected"} 1.0' in text
    assert "uchet_submission_queue_depth 0.0" in text
    assert "uchet_submission_batch_seconds_count" in text
    route = 'route="/v1/resident/meters/{meter_id}/readings"'
    assert f'uchet_http_requests_total{{method="POST",{route},status="201"}} 2.0' in text
    assert "uchet_store_readings 2.0" in text
    assert 'uchet_store_quarantined{reason="register_rollback"} 1.0' in text
    assert str(meter) + "/readings" not in text  # ids are not labels: templates are


async def test_askue_upload_imports_reports_and_is_idempotent(env: Env) -> None:
    # the samples are from 2008: the back-fill window (a setting) must cover them
    services = env.app.state.services
    services.settings = services.settings.model_copy(update={"backfill_days": HISTORY_DAYS})
    f810 = askue_sample("80020_600004_20080227_810.xml")
    f817 = askue_sample("80020_600004_20080227_817.xml")
    files = [
        ("files", (f810.name, f810.read_bytes(), "application/xml")),
        ("files", ("junk.xml", b"not xml at all", "application/xml")),
        ("files", (f817.name, f817.read_bytes(), "application/xml")),
    ]
    r = await env.client.post("/v1/operator/askue", files=files, headers=env.operator)
    assert r.status_code == 200, r.text
    reports = {x["file"]: x["report"] for x in r.json()}
    assert reports[f810.name]["accepted"] == 48
    assert reports["junk.xml"]["status"] == "failed" and reports["junk.xml"]["receipt"] == 4
    assert reports[f817.name]["supersedes"] == [f810.name]
    denied = await env.client.post("/v1/operator/askue", files=files[:1], headers=env.viewer)
    assert denied.status_code == 403
    again = await env.client.post("/v1/operator/askue", files=files[:1], headers=env.operator)
    assert again.json()[0]["report"]["status"] == "already_imported"


async def test_replay_without_a_selector_is_refused(env: Env) -> None:
    r = await env.client.post("/v1/operator/quarantine/replay", json={}, headers=env.operator)
    assert r.status_code == 422
    assert "meter_ids or quarantine_ids" in r.json()["detail"]

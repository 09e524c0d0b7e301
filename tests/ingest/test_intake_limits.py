"""One intake for every path: the same settings decide the same way for MQTT, HTTP, an 80020
file, a register CSV and a quarantine replay (real PostgreSQL, real Mosquitto)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from adapters.registers.mapping import available_mappings, mapping_dirs
from api.app import create_app
from api.runtime import migrate_url
from core.batch import Columns, FastDecoder
from core.config import Settings
from core.validation import Limits
from ingest.askue_import import AskueImporter
from ingest.intake import Intake
from ingest.register_import import RegisterImporter
from ingest.replay import replay
from tests.api.conftest import ALICE, prepare
from tests.api.conftest import settings as api_settings
from tests.askue.helpers import message, periods, point
from tests.mqtt_tools import gateway, publish, reading, wait_for_stats
from tests.registers.files import piramida_csv

pytestmark = [pytest.mark.postgres]
MSK = ZoneInfo("Europe/Moscow")
LIMITS = {"backfill_days": 30, "clock_tolerance_s": 60}
NOW = datetime.now(UTC)
OLD, FUTURE, GOOD = NOW - timedelta(days=40), NOW + timedelta(hours=2), NOW - timedelta(days=2)
EXPECTED = Counter({"too_old": 1, "future_timestamp": 1})


@pytest.fixture
def limits_env(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The limits as environment variables: whatever a path builds from settings sees them."""
    monkeypatch.setenv("UCHET_BACKFILL_DAYS", str(LIMITS["backfill_days"]))
    monkeypatch.setenv("UCHET_CLOCK_TOLERANCE_S", str(LIMITS["clock_tolerance_s"]))
    return Settings()


def _quarantined(stats: dict) -> Counter[str]:
    return Counter({k: v for k, v in stats["quarantined"].items() if v})


@pytest.mark.mqtt
async def test_mqtt(db_url, mosquitto, limits_env) -> None:
    await migrate_url(db_url)
    s = limits_env.model_copy(
        update={"mqtt_url": mosquitto.url, "askue_inbox_interval_s": 0, "vee_interval_s": 0}
    )
    async with gateway(s, db_url):
        await publish(
            mosquitto,
            [
                ("meters/m1/readings", reading("m1", t.isoformat(), v))
                for t, v in ((OLD, 1.0), (GOOD, 2.0), (FUTURE, 3.0))
            ],
        )
        stats = await wait_for_stats(db_url, lambda st: st["readings"] == 1 and _quarantined(st))
    assert _quarantined(stats) == EXPECTED


async def test_http(db_url, limits_env) -> None:
    await prepare(db_url)
    # the API's own age limit is wider: the intake's back-fill window is what refuses
    app = create_app(db_url, settings=api_settings(api_max_reading_age_days=3650))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            r = await client.post(
                "/v1/resident/login", json={"account": ALICE[0], "password": ALICE[1]}
            )
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            meters = (await client.get("/v1/resident/meters", headers=headers)).json()
            meter_id = next(m["id"] for m in meters if m["serial"] == "apt1-cw")
            reasons: Counter[str] = Counter()
            stored = 0
            for t, v in ((OLD, 1.0), (GOOD, 2.0), (FUTURE, 3.0)):
                r = await client.post(
                    f"/v1/resident/meters/{meter_id}/readings",
                    json={"value": v, "taken_at": t.isoformat()},
                    headers=headers,
                )
                if r.status_code == 201:
                    stored += 1
                else:
                    assert r.status_code == 422, r.text
                    reasons[r.json()["reason"]] += 1
    assert stored == 1
    assert reasons == EXPECTED


async def test_80020_file(store, tmp_path: Path, limits_env) -> None:
    intake = Intake.from_settings(store, limits_env)
    importer = AskueImporter(intake, tz="Europe/Moscow")
    total: Counter[str] = Counter()
    stored = 0
    # one value per file, at the day's first half hour (local time)
    for n, when in enumerate((OLD, GOOD, NOW + timedelta(days=2))):
        day = when.astimezone(MSK).strftime("%Y%m%d")
        path = tmp_path / f"80020_7700000000_{day}_{n + 1}.xml"
        path.write_bytes(message(point("P1", {"01": periods(["5"])}), day=day, number=str(n + 1)))
        report = await importer.import_file(path)
        assert report.status == "imported", report.as_dict()
        total.update(report.quarantined)
        stored += report.accepted
    assert stored == 1
    assert total == EXPECTED


async def test_register_csv(store, tmp_path: Path, limits_env) -> None:
    mapping = available_mappings(mapping_dirs(None))["piramida_t1t2"]
    intake = Intake.from_settings(store, limits_env)
    rows = [
        (f"S{n}", f"A{n}", when.astimezone(MSK).strftime("%d.%m.%Y"), "1,00", "2,00")
        for n, when in enumerate((OLD, GOOD, NOW + timedelta(days=2)))
    ]
    path = piramida_csv(tmp_path / "export.csv", rows)
    report = await RegisterImporter(intake).import_file(path, mapping)
    # two tariff registers per row
    assert report.stored == 2
    assert Counter(report.quarantined) == Counter({k: 2 * v for k, v in EXPECTED.items()})


async def test_replay(store, limits_env) -> None:
    # held earlier under wider limits, for a meter unknown then
    wide = Intake(
        store, limits=Limits(backfill=timedelta(days=3650), clock_tolerance=timedelta(days=1)),
        register_unknown=False,
    )  # fmt: skip
    cols = Columns()
    FastDecoder("mqtt").decode(
        [reading("m9", t.isoformat(), v) for t, v in ((OLD, 1.0), (GOOD, 2.0), (FUTURE, 3.0))],
        topic_meter=None,
        out=cols,
    )
    held = await wide.ingest(cols, source="mqtt")
    assert held.quarantined == Counter({"unknown_meter": 3})
    meters = await store.resolve([("mqtt", "m9", "cold_water")], register=True)
    report = await replay(store, limits_env, meter_ids=[m.id for m in meters.values()])
    assert report.stored == 1
    assert report.still_quarantined == EXPECTED

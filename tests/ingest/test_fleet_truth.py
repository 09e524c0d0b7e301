"""A simulated fleet with every fault, through the gateway: the store matches ground truth."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from api.runtime import migrate_url
from simulators.fastpub import publish_fast
from simulators.mqtt_fleet import FAULTS, FleetSpec, build_fleet
from tests.ingest.test_mqtt_ingest import settings_for
from tests.mqtt_tools import gateway, wait_for_stats

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]


@pytest.mark.parametrize("array_size", [1, 50])
async def test_fleet_with_faults_matches_ground_truth(mosquitto, db_url, array_size):
    await migrate_url(db_url)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    fleet = build_fleet(
        FleetSpec(
            meters=60,
            intervals=30,
            seed=7,
            faults=dict.fromkeys(FAULTS, 0.03),
            array_size=array_size,
            end=end,
        )
    )
    expected = fleet.outcomes()
    assert all(expected[k] for k in ("stored", "duplicate", "quarantine:malformed"))
    total = sum(expected.values())
    async with gateway(settings_for(mosquitto), db_url):
        await publish_fast(
            "127.0.0.1", mosquitto.port, ((m.topic, m.payload) for m in fleet.messages)
        )
        stats = await wait_for_stats(
            db_url,
            lambda s: s["readings"] + s["duplicates"] + sum(s["quarantined"].values()) >= total,
        )
        await asyncio.sleep(0.3)
    quarantined = {f"quarantine:{k}": v for k, v in stats["quarantined"].items()}
    got = {"stored": stats["readings"], "duplicate": stats["duplicates"], **quarantined}
    assert got == {k: v for k, v in expected.items() if v}

"""One set of VEE settings (issue #20): ``uchet vee``, the gateway's hourly run and the demo's
city replay all run batch VEE with ``Settings.vee_settings()`` — the defaults of
``core/vee/settings.py`` unless ``UCHET_VEE`` says otherwise (the demo used to pass its own
``missing_min_hours``, the CLI could not: 36 missing meters in one, 306 in the other)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date
from pathlib import Path

import pytest

import api.city.replay
import ingest.schedule
import ingest.vee
from api.cli import main
from api.runtime import migrate_url
from core.config import Settings
from core.vee import VeeSettings
from ingest.gateway import Gateway
from simulators.city.town import CitySpec

pytestmark = pytest.mark.postgres


def _spy(monkeypatch: pytest.MonkeyPatch, module: object) -> list[VeeSettings]:
    """Records the settings each run_vee call of ``module`` is given, and runs it."""
    seen: list[VeeSettings] = []
    real = ingest.vee.run_vee

    async def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs["settings"])
        return await real(*args, **kwargs)

    monkeypatch.setattr(module, "run_vee", spy)
    return seen


async def _cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> list[VeeSettings]:
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    seen = _spy(monkeypatch, ingest.vee)
    assert await asyncio.to_thread(main, ["vee", "--period", "2025-01"]) == 0
    return seen


async def _gateway(db_url: str, monkeypatch: pytest.MonkeyPatch) -> list[VeeSettings]:
    seen = _spy(monkeypatch, ingest.schedule)
    stop, ready = asyncio.Event(), asyncio.Event()
    gateway = Gateway(Settings(vee_interval_s=0.05), db_url)
    task = asyncio.create_task(gateway.run(stop, ready=ready))
    await ready.wait()
    for _ in range(200):
        if seen:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    return seen[:1]


def test_the_settings_build_the_defaults_and_refuse_unknown_names() -> None:
    assert Settings().vee_settings() == VeeSettings()
    s = Settings(vee={"missing_gap_hours": 48, "spike_house_meters": True})
    assert s.vee_settings() == VeeSettings(missing_gap_hours=48, spike_house_meters=True)
    assert s.vee_settings(missing_gap_hours=24).missing_gap_hours == 24  # an option wins
    with pytest.raises(ValueError, match="unknown VEE settings \\['missing_hours'\\]"):
        Settings(vee={"missing_hours": 3})


async def test_cli_and_gateway_run_with_the_same_settings(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrate_url(db_url)
    monkeypatch.delenv("UCHET_VEE", raising=False)
    assert await _cli(db_url, monkeypatch) == [VeeSettings()]
    assert await _gateway(db_url, monkeypatch) == [VeeSettings()]
    # one environment variable changes both
    monkeypatch.setenv("UCHET_VEE", '{"missing_gap_hours": 48, "stuck_days": 14}')
    changed = VeeSettings(missing_gap_hours=48, stuck_days=14)
    assert await _cli(db_url, monkeypatch) == [changed]
    assert await _gateway(db_url, monkeypatch) == [changed]


@pytest.mark.slow
async def test_the_demo_replay_runs_with_them_too(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("UCHET_VEE", '{"missing_gap_hours": 96}')
    seen = _spy(monkeypatch, api.city.replay)
    spec = CitySpec(houses=1, months=1, premises_per_house=4, start=date(2026, 10, 1))
    await api.city.replay.run_city(spec, db_url, tmp_path, mqtt_url="mqtt://127.0.0.1:1883")
    assert seen == [dataclasses.replace(VeeSettings(), missing_gap_hours=96)]

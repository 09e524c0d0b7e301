"""``uchet vee`` takes every VEE setting (issue #20: the demo passed ``missing_min_hours``, the
CLI could not, and reported 306 missing-data anomalies where the demo reported 36)."""

from __future__ import annotations

import asyncio
from dataclasses import fields

import pytest

import ingest.vee
from api.cli import build_parser, main
from api.commands.vee import VEE_HELP, vee_overrides
from api.runtime import migrate_url
from core.vee import VeeSettings


def test_every_vee_setting_is_an_option_with_its_default_in_help(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        main(["vee", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for f in fields(VeeSettings):
        assert "--" + f.name.replace("_", "-") in text, f.name
    assert "--missing-min-hours N в отчёт попадает счётчик, у которого пропущено" in text
    assert "(по умолчанию: 1)" in text and "(по умолчанию: 0.15)" in text
    assert "(по умолчанию: выключено)" in text  # --spike-house-meters
    assert "(default" not in text


def test_every_vee_setting_has_its_help_in_russian() -> None:
    assert set(VEE_HELP) == {f.name for f in fields(VeeSettings)}


def test_given_options_become_settings_and_the_rest_keep_defaults() -> None:
    args = build_parser(["vee"]).parse_args(
        ["vee", "--period", "2025-01", "--missing-min-hours", "72", "--spike-house-meters",
         "--balance-threshold", "0.2"]
    )  # fmt: skip
    settings = VeeSettings(**vee_overrides(args))  # type: ignore[arg-type]
    assert settings.missing_min_hours == 72
    assert settings.spike_house_meters is True
    assert settings.balance_threshold == 0.2
    assert settings.stuck_days == VeeSettings().stuck_days


@pytest.mark.postgres
async def test_the_command_passes_them_to_the_run(db_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    await migrate_url(db_url)
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    seen: list[VeeSettings] = []
    real = ingest.vee.run_vee

    async def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs["settings"])
        return await real(*args, **kwargs)

    monkeypatch.setattr(ingest.vee, "run_vee", spy)
    argv = ["vee", "--period", "2025-01", "--missing-min-hours", "72", "--stuck-days", "14"]
    assert await asyncio.to_thread(main, argv) == 0
    assert [(s.missing_min_hours, s.stuck_days) for s in seen] == [(72, 14)]

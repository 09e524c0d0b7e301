"""What the dashboard shows of an anomaly (issue #20): a November anomaly stored in UTC starts
on 1 November in local time, not "2026-10-31"; Russian words; the volumes' unit."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from api.web.dashboard_data import anomaly_rows, unit_of

MOSCOW = ZoneInfo("Europe/Moscow")


def test_a_november_anomaly_starts_in_november_local_time() -> None:
    stored = {
        "period": "2026-11", "type": "house_imbalance", "severity": "critical",
        "service": "cold_water", "house": "h1", "meter": None,
        "start": "2026-10-31T21:00:00+00:00", "end": "2026-11-30T21:00:00+00:00",
    }  # fmt: skip
    (row,) = anomaly_rows([stored], MOSCOW)
    assert row["start_local"] == datetime(2026, 11, 1, tzinfo=MOSCOW)
    assert row["end_local"] == datetime(2026, 12, 1, tzinfo=MOSCOW)
    assert row["type_text"] == "небаланс дома (ОДПУ больше помещений)"
    assert row["severity_text"] == "критично"
    assert row["unit"] == "м³"
    assert row["start"] == stored["start"]  # the stored fields stay as they were


def test_unknown_codes_pass_through_and_units_follow_the_service() -> None:
    (row,) = anomaly_rows([{"type": "new_kind", "severity": "high", "service": "x"}], MOSCOW)
    shown = (row["type_text"], row["severity_text"], row["start_local"])
    assert shown == ("new_kind", "high", None)
    assert (unit_of("electricity"), unit_of("heating"), unit_of("nope")) == ("кВт·ч", "Гкал", "")

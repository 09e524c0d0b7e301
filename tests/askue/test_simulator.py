"""Simulator round trip: parsing what the simulator wrote gives back its ground truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapters.askue import AskueError, NotXmlError, ParsedFile, parse_file, parse_files
from core.codes import flag_names
from simulators.askue import TRUTH_FILE, AskueFleet, day_periods, last_fall_back_day, write_fleet

FLEET = AskueFleet(
    seed=7,
    points=4,
    days=2,
    channels=("01", "02", "03"),
    groups=True,
    corrections=1,
    non_commercial=0.1,
    measurement_errors=0.05,
    changeover=True,
    broken=("truncated", "not_xml", "bad_value", "bad_encoding"),
)


def _rows(parsed: ParsedFile) -> Iterator[tuple[tuple[str, str | None, str], list[Any]]]:
    for series, (period, value, flags) in parsed.values():
        start = f"{period.start_utc:%Y-%m-%dT%H:%M:%SZ}"
        end = f"{period.end_utc:%Y-%m-%dT%H:%M:%SZ}"
        status = 1 if "non_commercial" in flag_names(flags) else 0
        key = (series.point.code, series.channel, start)
        yield (
            key,
            [
                series.point.code,
                series.channel,
                start,
                end,
                str(value),
                status,
                flag_names(flags),
                parsed.file,
            ],
        )


@pytest.mark.parametrize("encoding", ["windows-1251", "utf-8"])
@pytest.mark.parametrize("minutes", [30, 60])
def test_round_trip(tmp_path: Path, encoding: str, minutes: int) -> None:
    fleet = AskueFleet(**{**FLEET.__dict__, "encoding": encoding, "minutes": minutes})
    truth = write_fleet(tmp_path, fleet)
    assert json.loads((tmp_path / TRUTH_FILE).read_text()) == truth
    by_name = {f["name"]: f for f in truth["files"]}
    final: dict[tuple[str, str | None, str], tuple[int, list[Any]]] = {}
    for result in parse_files(sorted(tmp_path.glob("80020_*.xml"))):
        if isinstance(result, AskueError):
            record = by_name[Path(result.file).name]
            assert record["broken"] in ("truncated", "not_xml", "bad_encoding"), result
            assert isinstance(result, NotXmlError)
            continue
        record = by_name[Path(result.file).name]
        assert result.header.number == record["number"]
        assert result.header.day == date.fromisoformat(record["day"])
        if record["broken"] == "bad_value":
            assert [(e.point, e.channel, e.period) for e in result.errors] == [
                (b["point"], b["channel"], b["period"]) for b in record["bad"]
            ]
            assert result.value_count == record["values"] - 1
        else:
            assert result.errors == () and result.warnings == ()
            assert result.value_count == record["values"]
        # A later number supersedes; a broken file only for the values it holds.
        for key, row in _rows(result):
            held = final.get(key)
            if held is None or result.header.number > held[0]:
                final[key] = (result.header.number, row)
    got = sorted(
        ([*row[:7], _origin(row[7], by_name)] for _, row in final.values()),
        key=lambda r: (r[0], r[1] or "", r[2]),
    )
    want = [[*v[:7], by_name[v[7]]["name"]] for v in truth["values"]]
    # The truth names the file that set each value; broken copies repeat those values.
    assert [g[:7] for g in got] == [w[:7] for w in want]
    roles = {f["role"] for f in truth["files"]}
    assert roles == {"original", "correction", "changeover", "broken"}


def _origin(file: str, by_name: dict[str, Any]) -> str:
    return by_name[Path(file).name]["name"]


def test_corrections_change_values_and_carry_higher_numbers(tmp_path: Path) -> None:
    truth = write_fleet(tmp_path, AskueFleet(points=20, days=1, corrections=1))
    original, correction = truth["files"]
    assert (original["role"], correction["role"]) == ("original", "correction")
    assert original["day"] == correction["day"] and correction["number"] > original["number"]
    a = parse_file(tmp_path / original["name"])
    b = parse_file(tmp_path / correction["name"])
    changed = sum(
        x != y
        for s, t in zip(a.series, b.series, strict=True)
        for x, y in zip(s.values, t.values, strict=True)
    )
    assert 0 < changed < a.value_count
    assert {v[7] for v in truth["values"]} == {correction["name"]}


def test_the_changeover_day_has_25_hours_and_one_marked_repeat() -> None:
    from zoneinfo import ZoneInfo

    moscow = ZoneInfo("Europe/Moscow")
    day = last_fall_back_day(moscow)
    assert day == date(2014, 10, 26)
    hours = day_periods(day, moscow, 60)
    assert len(hours) == 25
    assert [(p.start, p.summer) for p in hours[1:3]] == [("0100", True), ("0100", False)]
    assert len(day_periods(date(2010, 3, 28), moscow, 30)) == 46


def test_same_seed_same_files(tmp_path: Path) -> None:
    fleet = AskueFleet(points=3, non_commercial=0.2, corrections=1)
    write_fleet(tmp_path / "a", fleet)
    write_fleet(tmp_path / "b", fleet)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert all(
        (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names
    )
    write_fleet(tmp_path / "c", AskueFleet(seed=2, points=3, non_commercial=0.2, corrections=1))
    assert (tmp_path / "c" / names[0]).read_bytes() != (tmp_path / "a" / names[0]).read_bytes()


@pytest.mark.parametrize(
    "kw",
    [
        {"minutes": 15},
        {"encoding": "koi8-r"},
        {"broken": ("weird",)},
        {"channels": ("05",)},
        {"days": 1, "corrections": 2},
    ],
)
def test_bad_fleet_settings(kw: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        AskueFleet(**kw)

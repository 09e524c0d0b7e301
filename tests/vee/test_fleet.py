"""The Fleet input type and the sparse-to-dense helper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core.errors import UchetError
from core.vee import Fleet, VeeInputError, grid_hourly
from tests.vee.helpers import START, fleet_of


def _kwargs(m: int = 2, t: int = 49) -> dict[str, object]:
    return {
        "start": START,
        "register": np.zeros((m, t)),
        "house": np.zeros(m, dtype=int),
        "service": np.zeros(m, dtype=int),
        "is_house_meter": np.zeros(m, dtype=bool),
        "digits": np.full(m, 5),
        "allows_export": np.zeros(m, dtype=bool),
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": datetime(2025, 1, 1)}, "not an aware UTC"),
        ({"start": datetime(2025, 1, 1, 0, 30, tzinfo=UTC)}, "hour boundary"),
        ({"register": np.zeros(5)}, "register has 1 dimensions"),
        ({"register": np.zeros((2, 1))}, "at least 2"),
        ({"house": np.zeros(3, dtype=int)}, "house has shape (3,)"),
        ({"service": np.array([0, 99])}, "service index"),
        ({"digits": np.array([5, 16])}, "digits"),
        ({"interval": np.zeros((2, 49))}, "interval has shape (2, 49), expected (2, 48)"),
        ({"meter_ids": ("a",)}, "meter_ids has 1 names for 2 meters"),
        ({"register": [["x"] * 49] * 2}, "register: cannot be read"),
    ],
)
def test_fleet_rejects_inconsistent_input_naming_the_field(
    change: dict[str, object], message: str
) -> None:
    kwargs = _kwargs() | change
    with pytest.raises(VeeInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Fleet(**kwargs)  # type: ignore[arg-type]


def test_fleet_error_is_an_uchet_error() -> None:
    assert issubclass(VeeInputError, UchetError)


def test_fleet_shape_properties() -> None:
    f = fleet_of(np.zeros((3, 24 * 4 + 1)), house=[0, 0, 1])
    assert (f.n_meters, f.n_hours, f.n_days, f.n_houses) == (3, 96, 4, 2)
    assert f.hour_ts(25) == START + timedelta(hours=25)
    assert f.meter_name(2) == "#2"


def test_grid_places_snaps_and_counts() -> None:
    t0 = START.timestamp()
    meter = [0, 0, 1, 1, 1, 0]
    ts = [t0, t0 + 3600 + 120, t0 + 7200 - 60, t0 + 7200, t0 + 10 * 3600, t0 - 3600]
    value = [1.0, 2.0, 5.0, 6.0, 7.0, 9.0]
    g = grid_hourly(meter, ts, value, n_meters=2, start=START, n_columns=4)
    expected = np.array([[1.0, 2.0, np.nan, np.nan], [np.nan, np.nan, 6.0, np.nan]])
    np.testing.assert_array_equal(g.values, expected)
    assert (g.placed, g.outside, g.duplicates) == (3, 2, 1)


def test_grid_accepts_datetime64() -> None:
    ts = np.array([np.datetime64(START.replace(tzinfo=None) + timedelta(hours=2), "s")])
    g = grid_hourly([0], ts, [3.5], n_meters=1, start=START, n_columns=3)
    assert g.values[0, 2] == 3.5


@pytest.mark.parametrize(
    ("meter", "offset_s", "value", "message"),
    [
        (0, 1800, 1.0, r"reading 1 \(meter 0\): ts .* more than 300 s"),
        (5, 0, 1.0, "reading 1: meter index 5 outside 0..1"),
        (1, 0, float("nan"), r"reading 1 \(meter 1\): value nan is not finite"),
    ],
)
def test_grid_bad_reading_is_named(meter: int, offset_s: int, value: float, message: str) -> None:
    t0 = START.timestamp()
    with pytest.raises(VeeInputError, match=message):
        grid_hourly(
            [0, meter], [t0, t0 + offset_s], [1.0, value], n_meters=2, start=START, n_columns=4
        )

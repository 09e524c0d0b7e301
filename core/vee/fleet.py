"""The input of a batch VEE pass: per-meter metadata and dense hourly arrays (meters × hours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from core.channels import SERVICES
from core.errors import UchetError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


class VeeInputError(UchetError, ValueError):
    """Arrays given to batch VEE do not fit together; the message names the field."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Fleet:
    """Hourly data of M meters over one period, the input of :func:`core.vee.run_batch`.

    start: aware UTC datetime on an hour boundary. Column ``t`` of ``register`` is the
        register index at ``start + t`` hours. Day ``d`` is ``[start + 24d h, start + 24(d+1) h)``,
        so start the period at local midnight (21:00 UTC for Moscow) for local days.
    register: (M, T) float64 register values (cumulative index, canonical unit); NaN = no
        reading. Use T = 24·D + 1 so both ends of every day are present.
    house: (M,) int64 house index 0..H−1 (−1: the meter belongs to no house).
    service: (M,) int64 index into :data:`core.channels.SERVICES`.
    is_house_meter: (M,) bool, True for ОДПУ (house meter), False for ИПУ (premise meter).
    digits: (M,) int64 register digits before the decimal point; capacity = 10**digits
        (0 = unknown, no rollover possible).
    allows_export: (M,) bool, the channel may legitimately count negative (export) intervals.
    interval: optional (M, T−1) float64 consumption of hour ``[t, t+1)`` for meters that also
        send interval data (NaN = none); used by the reverse-flow and sum checks.
    meter_ids, house_ids: optional names for reports (default ``"#<index>"``).
    """

    start: datetime
    register: F64
    house: I64
    service: I64
    is_house_meter: B
    digits: I64
    allows_export: B
    interval: F64 | None = None
    meter_ids: tuple[str, ...] | None = None
    house_ids: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() != timedelta(0):
            raise VeeInputError(f"start {self.start!r} is not an aware UTC datetime")
        if self.start.minute or self.start.second or self.start.microsecond:
            raise VeeInputError(f"start {self.start.isoformat()} is not on an hour boundary")
        _set(self, "register", _array(self.register, np.float64, "register", ndim=2))
        m, t = self.register.shape
        if t < 2:
            raise VeeInputError(f"register has {t} hour columns; at least 2 are needed")
        for name, dtype in (
            ("house", np.int64),
            ("service", np.int64),
            ("is_house_meter", np.bool_),
            ("digits", np.int64),
            ("allows_export", np.bool_),
        ):
            arr = _array(getattr(self, name), dtype, name, ndim=1)
            if arr.shape != (m,):
                raise VeeInputError(f"{name} has shape {arr.shape}, expected ({m},)")
            _set(self, name, arr)
        if m and (self.service.min() < 0 or self.service.max() >= len(SERVICES)):
            raise VeeInputError(f"service index outside 0..{len(SERVICES) - 1}")
        if m and (self.digits.min() < 0 or self.digits.max() > 15):
            raise VeeInputError("digits outside 0..15")
        if m and self.house.min() < -1:
            raise VeeInputError("house index below -1")
        if self.interval is not None:
            iv = _array(self.interval, np.float64, "interval", ndim=2)
            if iv.shape != (m, t - 1):
                raise VeeInputError(f"interval has shape {iv.shape}, expected ({m}, {t - 1})")
            _set(self, "interval", iv)
        if self.meter_ids is not None and len(self.meter_ids) != m:
            raise VeeInputError(f"meter_ids has {len(self.meter_ids)} names for {m} meters")
        if self.house_ids is not None and m and len(self.house_ids) <= self.house.max():
            raise VeeInputError(f"house_ids has {len(self.house_ids)} names, house index too big")

    @property
    def n_meters(self) -> int:
        return int(self.register.shape[0])

    @property
    def n_hours(self) -> int:
        """Hours in the period (register columns − 1)."""
        return int(self.register.shape[1] - 1)

    @property
    def n_days(self) -> int:
        """Complete days in the period."""
        return self.n_hours // 24

    @property
    def n_houses(self) -> int:
        return int(self.house.max()) + 1 if self.n_meters else 0

    def hour_ts(self, column: int) -> datetime:
        """The UTC time of a register column (or the start of an hour)."""
        return self.start + timedelta(hours=column)

    def meter_name(self, index: int) -> str:
        return self.meter_ids[index] if self.meter_ids is not None else f"#{index}"

    def house_name(self, index: int) -> str:
        return self.house_ids[index] if self.house_ids is not None else f"#{index}"


def _set(obj: Fleet, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _array(value: Any, dtype: type[Any], name: str, *, ndim: int) -> Any:
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise VeeInputError(f"{name}: cannot be read as {np.dtype(dtype).name}: {exc}") from exc
    if arr.ndim != ndim:
        raise VeeInputError(f"{name} has {arr.ndim} dimensions, expected {ndim}")
    return arr


@dataclass(frozen=True, slots=True)
class Grid:
    """A dense hourly array built from sparse readings, with what did not fit counted."""

    values: F64
    placed: int
    outside: int
    duplicates: int


def grid_hourly(
    meter_idx: npt.ArrayLike,
    ts: npt.ArrayLike,
    value: npt.ArrayLike,
    *,
    n_meters: int,
    start: datetime,
    n_columns: int,
    snap_seconds: float = 300.0,
) -> Grid:
    """Place sparse readings ``(meter_idx, ts, value)`` on a dense (n_meters, n_columns) grid.

    ``ts`` is epoch seconds (numbers) or ``datetime64``; column ``c`` is ``start + c`` hours.
    Readings within ``snap_seconds`` of an hour boundary go to that column (device clocks
    drift); others raise :class:`VeeInputError` naming the first one, because silently
    dropping or moving them would change consumption. Readings outside the period are counted
    in ``outside``; two readings in one cell keep the later one in input order and are counted
    in ``duplicates``.
    """
    if start.tzinfo is None or start.utcoffset() != timedelta(0):
        raise VeeInputError(f"start {start!r} is not an aware UTC datetime")
    mi = np.asarray(meter_idx, dtype=np.int64)
    raw_ts = np.asarray(ts)
    if np.issubdtype(raw_ts.dtype, np.datetime64):
        secs = raw_ts.astype("datetime64[ms]").astype(np.int64) / 1000.0
    else:
        secs = raw_ts.astype(np.float64)
    val = np.asarray(value, dtype=np.float64)
    if not (mi.shape == secs.shape == val.shape) or mi.ndim != 1:
        raise VeeInputError(
            f"meter_idx, ts and value must be 1-D of one length, got "
            f"{mi.shape}, {secs.shape}, {val.shape}"
        )
    bad_meter = np.flatnonzero((mi < 0) | (mi >= n_meters))
    if bad_meter.size:
        i = int(bad_meter[0])
        raise VeeInputError(f"reading {i}: meter index {int(mi[i])} outside 0..{n_meters - 1}")
    bad_value = np.flatnonzero(~np.isfinite(val))
    if bad_value.size:
        i = int(bad_value[0])
        raise VeeInputError(
            f"reading {i} (meter {int(mi[i])}): value {float(val[i])!r} is not finite"
        )
    hours = (secs - start.timestamp()) / 3600.0
    col = np.rint(hours)
    off = np.abs(hours - col) * 3600.0 > snap_seconds
    inside = (col >= 0) & (col < n_columns)
    bad_ts = np.flatnonzero(off & inside)
    if bad_ts.size:
        i = int(bad_ts[0])
        when = datetime.fromtimestamp(float(secs[i]), UTC).isoformat()
        raise VeeInputError(
            f"reading {i} (meter {int(mi[i])}): ts {when} is more than {snap_seconds:g} s "
            f"from an hour boundary"
        )
    grid = np.full((n_meters, n_columns), np.nan)
    flat = mi[inside] * n_columns + col[inside].astype(np.int64)
    # numpy does not promise which of repeated fancy-index writes wins: pick the last explicitly.
    _, first_from_end = np.unique(flat[::-1], return_index=True)
    keep = flat.size - 1 - first_from_end
    grid.reshape(-1)[flat[keep]] = val[inside][keep]
    placed = int(keep.size)
    return Grid(grid, placed, int((~inside).sum()), int(flat.size - placed))

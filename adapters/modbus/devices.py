"""The device list: which meters to poll, where, with which profile and schedule.

A JSON file (format in ``adapters/modbus/README.md``). An entry with ``units: [first, last]``
and a ``{unit}`` placeholder in ``meter`` stands for a whole bus of identical meters.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.modbus.planner import default_phase
from adapters.modbus.profile import Profile, resolve_profile
from core.errors import ConfigError

_DEVICE_KEYS = {
    "meter",
    "host",
    "port",
    "unit",
    "units",
    "profile",
    "interval_s",
    "timeout_s",
    "phase_s",
    "max_gap",
    "failure_threshold",
    "backoff_base_s",
    "backoff_max_s",
}
DEFAULTS: dict[str, Any] = {
    "port": 502,
    "interval_s": 60.0,
    "timeout_s": 1.0,
    "max_gap": 8,
    "failure_threshold": 3,
    "backoff_base_s": 5.0,
    "backoff_max_s": 300.0,
}


@dataclass(frozen=True, slots=True)
class Device:
    """One meter behind a Modbus TCP endpoint (a meter with Ethernet, or an RS-485 gateway)."""

    meter: str
    host: str
    port: int
    unit: int
    profile: Profile
    interval_s: float = 60.0
    timeout_s: float = 1.0
    phase_s: float = 0.0
    max_gap: int = 8
    failure_threshold: int = 3
    backoff_base_s: float = 5.0
    backoff_max_s: float = 300.0

    @property
    def bus(self) -> tuple[str, int]:
        """Devices with the same (host, port) share one connection and one request at a time."""
        return (self.host, self.port)


def _number(entry: dict[str, Any], key: str, where: str, *, integer: bool = False) -> Any:
    value = entry[key]
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if not ok or isinstance(value, bool) or not math.isfinite(value):
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{where}: {key} {value!r} must be {kind}")
    return value


def _device(entry: dict[str, Any], unit: int, meter: str, profile: Profile, where: str) -> Device:
    interval = float(_number(entry, "interval_s", where))
    timeout = float(_number(entry, "timeout_s", where))
    if interval <= 0:
        raise ConfigError(f"{where}: interval_s must be > 0")
    if not 0 < timeout < interval:
        raise ConfigError(f"{where}: timeout_s must be > 0 and shorter than interval_s")
    port = _number(entry, "port", where, integer=True)
    if not 1 <= port <= 65535:
        raise ConfigError(f"{where}: port {port} out of range")
    if not 0 <= unit <= 255:
        raise ConfigError(f"{where}: unit {unit} out of range 0..255")
    phase = entry.get("phase_s")
    if phase is None:
        phase = default_phase(meter, interval)
    elif not isinstance(phase, int | float) or not 0 <= phase < interval:
        raise ConfigError(f"{where}: phase_s {phase!r} must be in [0, interval_s)")
    max_gap = _number(entry, "max_gap", where, integer=True)
    threshold = _number(entry, "failure_threshold", where, integer=True)
    base = float(_number(entry, "backoff_base_s", where))
    cap = float(_number(entry, "backoff_max_s", where))
    if max_gap < 0 or threshold < 1 or not 0 < base <= cap:
        raise ConfigError(
            f"{where}: need max_gap >= 0, failure_threshold >= 1, 0 < backoff_base_s <= "
            "backoff_max_s"
        )
    host = entry.get("host")
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{where}: host is missing")
    return Device(
        meter=meter,
        host=host,
        port=port,
        unit=unit,
        profile=profile,
        interval_s=interval,
        timeout_s=timeout,
        phase_s=float(phase),
        max_gap=max_gap,
        failure_threshold=threshold,
        backoff_base_s=base,
        backoff_max_s=cap,
    )


def devices_from_dict(
    data: Any, *, origin: str = "device list", base: Path | None = None
) -> list[Device]:
    """Expands and validates a device list; errors name the entry and the field."""
    if not isinstance(data, dict) or not isinstance(data.get("devices"), list):
        raise ConfigError(f"{origin}: expected an object with a 'devices' list")
    defaults = dict(DEFAULTS)
    extra = data.get("defaults", {})
    if not isinstance(extra, dict) or set(extra) - _DEVICE_KEYS:
        raise ConfigError(f"{origin}: defaults: unknown field(s) or not an object")
    defaults.update(extra)
    profiles: dict[str, Profile] = {}
    devices: list[Device] = []
    meters: dict[str, str] = {}
    addresses: dict[tuple[str, int, int], str] = {}
    for index, raw in enumerate(data["devices"]):
        where = f"{origin}: devices[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: must be an object")
        unknown = set(raw) - _DEVICE_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        entry = {**defaults, **raw}
        template = entry.get("meter")
        if not isinstance(template, str) or not template:
            raise ConfigError(f"{where}: meter is missing")
        where = f"{origin}: devices[{index}] ({template})"
        ref = entry.get("profile")
        if not isinstance(ref, str):
            raise ConfigError(f"{where}: profile is missing")
        if ref not in profiles:
            profiles[ref] = resolve_profile(ref, base=base)
        if "units" in raw:
            span = raw["units"]
            if (
                not isinstance(span, list)
                or len(span) != 2
                or not all(isinstance(u, int) and not isinstance(u, bool) for u in span)
                or span[0] > span[1]
            ):
                raise ConfigError(f"{where}: units must be [first, last]")
            if "{unit" not in template:
                raise ConfigError(f"{where}: meter must contain {{unit}} when units is a range")
            units = list(range(span[0], span[1] + 1))
        else:
            unit = _number(entry, "unit", where, integer=True) if "unit" in entry else 1
            units = [unit]
        for unit in units:
            try:
                meter = template.format(unit=unit, host=entry.get("host"), port=entry.get("port"))
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigError(f"{where}: bad meter template: {exc}") from exc
            device = _device(entry, unit, meter, profiles[ref], where)
            if meter in meters:
                raise ConfigError(f"{where}: meter {meter!r} already defined by {meters[meter]}")
            key = (device.host, device.port, device.unit)
            if key in addresses:
                raise ConfigError(
                    f"{where}: {device.host}:{device.port} unit {unit} already used by "
                    f"meter {addresses[key]!r}"
                )
            meters[meter] = where
            addresses[key] = meter
            devices.append(device)
    return devices


def load_devices(path: Path) -> list[Device]:
    """Reads a device list file; profile paths in it are relative to the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read device list: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
    return devices_from_dict(data, origin=str(path), base=path.parent)

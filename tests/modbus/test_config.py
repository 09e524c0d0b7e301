"""Profiles and device lists: the shipped files load; bad files name what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.modbus.devices import devices_from_dict, load_devices
from adapters.modbus.profile import builtin_profiles, load_profile, resolve_profile
from core.errors import ConfigError


@pytest.mark.parametrize("name", builtin_profiles())
def test_builtin_profiles_load_and_cite_their_source(name: str) -> None:
    profile = resolve_profile(name)
    assert "http" in profile.source  # the register map document, cited
    assert profile.registers
    for reg in profile.registers:
        assert reg.factor > 0


def test_at_least_two_meter_models_are_shipped() -> None:
    assert {"eastron_sdm630", "eastron_sdm120", "schneider_iem3155"} <= set(builtin_profiles())


def test_wh_register_is_converted_to_kwh() -> None:
    reg = resolve_profile("schneider_iem3155").registers[0]
    assert (reg.type, reg.unit, reg.channel, reg.factor) == ("i64", "Wh", "1-0:1.8.0", 1e-3)


GOOD_REG = {"name": "e", "address": 0, "type": "f32", "unit": "kWh", "channel": "1.8.0"}


@pytest.mark.parametrize(
    "change,message",
    [
        ({"type": "f16"}, "register 'e': type 'f16' is not one of"),
        ({"address": 70000}, "register 'e': address 70000 must be"),
        ({"address": 65535}, "runs past register 65535"),
        ({"function": 1}, "register 'e': function 1 is not one of 3, 4"),
        ({"word_order": "middle"}, "word_order 'middle'"),
        ({"unit": "l"}, "register 'e': unit 'l' cannot be converted to kWh"),
        ({"channel": "volts"}, "register 'e': unknown channel 'volts'"),
        ({"scale": 0}, "scale 0 must be a finite non-zero number"),
        ({"kind": "interval"}, "kind 'interval' is not supported"),
        ({"colour": "red"}, "unknown field(s) colour"),
    ],
)
def test_bad_profile_names_file_register_and_field(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "meter.json"
    path.write_text(
        json.dumps({"model": "m", "source": "s", "registers": [{**GOOD_REG, **change}]})
    )
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_profile_json_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "model": "m",\n  "registers": [,]\n}')
    with pytest.raises(ConfigError, match=r"broken.json: line 3: invalid JSON"):
        load_profile(path)


def test_profile_rejects_two_registers_on_one_channel() -> None:
    from adapters.modbus.profile import profile_from_dict

    data = {"model": "m", "source": "s", "registers": [GOOD_REG, {**GOOD_REG, "name": "f"}]}
    with pytest.raises(ConfigError, match=r"'e' and 'f' both map to channel 1-0:1\.8\.0"):
        profile_from_dict(data, name="m")


def test_unknown_profile_lists_the_builtin_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown profile 'nope'.*eastron_sdm630"):
        resolve_profile("nope")


def test_device_list_expands_a_bus_of_identical_meters(tmp_path: Path) -> None:
    (tmp_path / "own.json").write_text(
        json.dumps({"model": "m", "source": "s", "registers": [GOOD_REG]})
    )
    path = tmp_path / "devices.json"
    path.write_text(
        json.dumps(
            {
                "defaults": {"interval_s": 30, "timeout_s": 0.5},
                "devices": [
                    {"meter": "house7-kv{unit:03d}", "host": "10.0.0.7", "units": [1, 32],
                     "profile": "eastron_sdm120"},
                    {"meter": "odpu-7", "host": "10.0.0.8", "port": 5020, "unit": 3,
                     "profile": "own.json", "phase_s": 5, "interval_s": 60},
                ],
            }
        )
    )  # fmt: skip
    devices = load_devices(path)
    assert len(devices) == 33
    assert devices[0].meter == "house7-kv001" and devices[31].meter == "house7-kv032"
    assert {d.unit for d in devices[:32]} == set(range(1, 33))
    assert all(d.bus == ("10.0.0.7", 502) and d.interval_s == 30 for d in devices[:32])
    assert all(0 <= d.phase_s < 30 for d in devices[:32])
    assert len({d.phase_s for d in devices[:32]}) == 32  # spread, not all at once
    odpu = devices[32]
    assert (odpu.bus, odpu.unit, odpu.phase_s, odpu.profile.name) == (
        ("10.0.0.8", 5020),
        3,
        5.0,
        "own",
    )


@pytest.mark.parametrize(
    "entry,message",
    [
        ({"meter": "m", "host": "h", "units": [1, 3]}, "meter must contain {unit}"),
        ({"meter": "a{unit}", "host": "h", "units": [3, 1]}, "units must be [first, last]"),
        ({"meter": "a", "host": "h", "timeout_s": 90}, "timeout_s must be > 0 and shorter"),
        ({"meter": "a", "host": "h", "unit": 300}, "unit 300 out of range"),
        ({"meter": "a", "host": "h", "port": "x"}, "port 'x' must be an integer"),
        ({"meter": "a", "unit": 1}, "host is missing"),
        ({"meter": "a", "host": "h", "speed": 1}, "unknown field(s) speed"),
        ({"meter": "a", "host": "h", "phase_s": 60}, "phase_s 60 must be in [0, interval_s)"),
    ],
)
def test_bad_device_entry_is_named(entry: dict[str, Any], message: str) -> None:
    entry = {"meter": "m", "profile": "eastron_sdm120", **entry}
    with pytest.raises(ConfigError) as info:
        devices_from_dict({"devices": [entry]}, origin="devs.json")
    assert "devs.json: devices[0]" in str(info.value)
    assert message in str(info.value)


def test_duplicate_meter_and_duplicate_address_are_rejected() -> None:
    same_meter = [
        {"meter": "a", "host": "h", "unit": 1, "profile": "eastron_sdm120"},
        {"meter": "a", "host": "h", "unit": 2, "profile": "eastron_sdm120"},
    ]
    with pytest.raises(ConfigError, match=r"devices\[1\] \(a\): meter 'a' already defined"):
        devices_from_dict({"devices": same_meter})
    same_unit = [
        {"meter": "a", "host": "h", "unit": 1, "profile": "eastron_sdm120"},
        {"meter": "b", "host": "h", "unit": 1, "profile": "eastron_sdm120"},
    ]
    with pytest.raises(ConfigError, match="h:502 unit 1 already used by meter 'a'"):
        devices_from_dict({"devices": same_unit})

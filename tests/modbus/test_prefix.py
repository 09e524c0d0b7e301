"""Energy prefixes of Modbus profiles (a meter set to MWh) and the OBIS energy units."""

from __future__ import annotations

import pytest

from adapters.modbus.profile import profile_from_dict, resolve_profile
from core.channels import canonical_unit, conversion_factor
from core.errors import ConfigError


def _units(ref: str) -> dict[str, tuple[str, float]]:
    return {r.name: (r.unit, r.factor) for r in resolve_profile(ref).registers}


@pytest.mark.parametrize("name", ["eastron_sdm630", "eastron_sdm120"])
def test_an_sdm_switched_to_mwh_is_read_in_mwh(name: str) -> None:
    kwh, mwh = _units(name), _units(f"{name}@MWh")
    assert set(kwh) == set(mwh)
    for reg, (unit, factor) in mwh.items():
        base_unit, base_factor = kwh[reg]
        assert unit == "M" + base_unit.removeprefix("k")
        assert factor == pytest.approx(1000 * base_factor)
    assert _units(f"{name}@kWh") == kwh


def test_energy_prefix_in_the_profile_file() -> None:
    data = {
        "model": "test",
        "source": "test",
        "energy_prefix": "M",
        "registers": [
            {"name": "a", "address": 0, "type": "f32", "unit": "kWh", "channel": "1-0:1.8.0"},
            {"name": "r", "address": 2, "type": "f32", "unit": "kvarh", "channel": "1-0:3.8.0"},
            {"name": "w", "address": 4, "type": "f32", "unit": "m3", "channel": "8-0:1.0.0"},
        ],
    }
    regs = {r.name: (r.unit, r.factor) for r in profile_from_dict(data, name="t").registers}
    assert regs == {"a": ("MWh", 1000.0), "r": ("Mvarh", 1000.0), "w": ("m3", 1.0)}


@pytest.mark.parametrize("ref", ["eastron_sdm630@GWh", "eastron_sdm630@MW", "eastron_sdm630@"])
def test_an_unknown_prefix_is_a_clear_error(ref: str) -> None:
    with pytest.raises(ConfigError, match="Wh, kWh or MWh"):
        resolve_profile(ref)


def test_a_bad_energy_prefix_field_names_the_profile() -> None:
    data = {
        "model": "m",
        "source": "s",
        "energy_prefix": "G",
        "registers": [
            {"name": "a", "address": 0, "type": "f32", "unit": "kWh", "channel": "1-0:1.8.0"}
        ],
    }
    with pytest.raises(ConfigError, match="energy_prefix 'G'"):
        profile_from_dict(data, name="t")


@pytest.mark.parametrize(
    ("channel", "unit"),
    [
        ("1-0:1.8.0", "kWh"),
        ("1-0:21.8.0", "kWh"),  # L1 active import
        ("1-0:3.8.0", "kvarh"),
        ("1-0:23.8.0", "kvarh"),  # L1 reactive import
        ("1-0:24.8.0", "kvarh"),
        ("1-0:43.8.0", "kvarh"),
        ("1-0:44.8.0", "kvarh"),
        ("1-0:63.8.0", "kvarh"),
        ("1-0:64.8.0", "kvarh"),
        ("1-0:5.8.0", "kvarh"),  # quadrant I
        ("1-0:9.8.0", "kVAh"),  # apparent import
        ("1-0:10.8.0", "kVAh"),
        ("1-0:29.8.0", "kVAh"),
        ("1-0:69.8.0", "kVAh"),
    ],
)
def test_obis_energy_units(channel: str, unit: str) -> None:
    assert canonical_unit(channel) == unit


def test_per_phase_reactive_and_apparent_registers_can_be_profiled() -> None:
    regs = [
        {"name": "q1", "address": 0, "type": "f32", "unit": "kvarh", "channel": "1-0:23.8.0"},
        {"name": "q2", "address": 2, "type": "f32", "unit": "varh", "channel": "1-0:44.8.0"},
        {"name": "s", "address": 4, "type": "f32", "unit": "kVAh", "channel": "1-0:9.8.0"},
        {"name": "s3", "address": 6, "type": "f32", "unit": "MVAh", "channel": "1-0:69.8.0"},
    ]
    profile = profile_from_dict({"model": "m", "source": "s", "registers": regs}, name="p")
    assert [r.factor for r in profile.registers] == [1.0, 1e-3, 1.0, 1e3]
    with pytest.raises(ConfigError, match="cannot be converted to kVAh"):
        profile_from_dict(
            {"model": "m", "source": "s", "registers": [{**regs[2], "unit": "kWh"}]}, name="p"
        )
    assert conversion_factor("kvah", "1-0:10.8.0") == 1.0

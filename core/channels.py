"""Channels (service names and OBIS codes), their services and canonical units.

A meter's register is identified by (meter, channel). A channel is either a service name
(``cold_water``) or an OBIS code (IEC 62056-61), normalised to the full ``A-B:C.D.E`` form
(``1.8.0`` -> ``1-0:1.8.0``). Every channel has a service and a canonical unit; values in any
known unit are converted to that unit where they enter the system.
"""

from __future__ import annotations

import re
from typing import Final

from core.codes import Reason
from core.errors import PayloadError

SERVICES: Final = ("cold_water", "hot_water", "sewage", "electricity", "gas", "heating")
"""Service names (услуги) exactly as the billing format and the API spell them."""

CANONICAL_UNIT: Final[dict[str, str]] = {
    "cold_water": "m3",
    "hot_water": "m3",
    "sewage": "m3",
    "electricity": "kWh",
    "gas": "m3",
    "heating": "Gcal",
}

# OBIS value group A (medium) -> service. 1 electricity, 6 heat, 7 gas, 8 cold, 9 hot water.
_OBIS_MEDIUM: Final[dict[str, str]] = {
    "1": "electricity",
    "6": "heating",
    "7": "gas",
    "8": "cold_water",
    "9": "hot_water",
}
_OBIS_FULL = re.compile(r"^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:[*&]\d{1,3})?$")
_OBIS_SHORT = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
# Electricity C codes (IEC 62056-61 / DLMS) by the energy they count. Reactive: 3, 4 (R+, R-
# totals), 5..8 (quadrants I..IV), and the same per phase L1 (+20), L2 (+40), L3 (+60).
# Apparent: 9, 10 (S+, S-) and per phase 29/30, 49/50, 69/70. Everything else is active (kWh).
_REACTIVE_C: Final = frozenset(str(c + p) for p in (0, 20, 40, 60) for c in (3, 4, 5, 6, 7, 8))
_APPARENT_C: Final = frozenset(str(c + p) for p in (0, 20, 40, 60) for c in (9, 10))

# Factors to the canonical unit, per canonical unit. Energy in heating: 1 Gcal = 4.1868 GJ.
_TO_CANONICAL: Final[dict[str, dict[str, float]]] = {
    "kWh": {"kWh": 1.0, "Wh": 1e-3, "MWh": 1e3},
    "kvarh": {"kvarh": 1.0, "varh": 1e-3, "Mvarh": 1e3},
    "kVAh": {"kVAh": 1.0, "VAh": 1e-3, "MVAh": 1e3},
    "m3": {"m3": 1.0, "l": 1e-3},
    "Gcal": {"Gcal": 1.0, "GJ": 1 / 4.1868, "MWh": 3.6 / 4.1868, "kWh": 3.6e-3 / 4.1868},
}
_UNIT_ALIASES: Final[dict[str, str]] = {
    "kwh": "kWh",
    "wh": "Wh",
    "mwh": "MWh",
    "kvarh": "kvarh",
    "varh": "varh",
    "mvarh": "Mvarh",
    "kvah": "kVAh",
    "vah": "VAh",
    "mvah": "MVAh",
    "m3": "m3",
    "m³": "m3",
    "l": "l",
    "gcal": "Gcal",
    "gj": "GJ",
}


def normalize_channel(channel: str) -> str:
    """The canonical spelling of a channel, or PayloadError(unknown_channel)."""
    text = channel.strip()
    if text in CANONICAL_UNIT:
        return text
    m = _OBIS_FULL.match(text)
    if m:
        a, b, c, d, e = m.groups()
        if a in _OBIS_MEDIUM:
            return f"{int(a)}-{int(b)}:{int(c)}.{int(d)}.{int(e)}"
    m = _OBIS_SHORT.match(text)
    if m:
        c, d, e = m.groups()
        return f"1-0:{int(c)}.{int(d)}.{int(e)}"
    raise PayloadError(Reason.UNKNOWN_CHANNEL, f"unknown channel {channel!r}")


def service_of(channel: str) -> str:
    """The service a canonical channel measures."""
    if channel in CANONICAL_UNIT:
        return channel
    return _OBIS_MEDIUM[channel.split("-", 1)[0]]


def canonical_unit(channel: str) -> str:
    """The unit stored values of a canonical channel are in."""
    service = service_of(channel)
    if service == "electricity" and channel != "electricity":
        c = channel.split(":", 1)[1].split(".", 1)[0]
        if c in _REACTIVE_C:
            return "kvarh"
        if c in _APPARENT_C:
            return "kVAh"
    return CANONICAL_UNIT[service]


def conversion_factor(unit: str, channel: str) -> float:
    """Factor that converts a value in ``unit`` to the channel's canonical unit.

    Raises PayloadError(unknown_unit) for a unit that is unknown or does not fit the channel
    (litres on an electricity channel, say).
    """
    target = canonical_unit(channel)
    name = _UNIT_ALIASES.get(unit.strip().lower())
    factor = _TO_CANONICAL[target].get(name) if name else None
    if factor is None:
        raise PayloadError(
            Reason.UNKNOWN_UNIT, f"unit {unit!r} cannot be converted to {target} for {channel}"
        )
    return factor

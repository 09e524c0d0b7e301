"""Shared helpers for the Modbus tests: profiles as JSON, fleets on free ports."""

from __future__ import annotations

import json
from typing import Any

from adapters.modbus.profile import PROFILES_DIR
from simulators.modbus import ModbusFleet
from tests.services import free_port


def builtin(name: str) -> tuple[str, dict[str, Any]]:
    return name, json.loads((PROFILES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def ports() -> Any:
    """Free ports, never the same one twice (free_port alone may repeat before a bind)."""
    seen: set[int] = set()
    while True:
        port = free_port()
        if port not in seen:
            seen.add(port)
            yield port


def fleet(
    profiles: list[tuple[str, dict[str, Any]]], *, per_profile: int, per_gateway: int, **kw: Any
) -> ModbusFleet:
    return ModbusFleet.build(
        profiles, per_profile=per_profile, per_gateway=per_gateway, ports=ports(), **kw
    )

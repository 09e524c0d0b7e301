"""Errors of the Modbus adapter; each carries the gateway, unit and request it concerns.

SourceError (core.errors)
 └── ModbusError            a Modbus request failed
      ├── GatewayUnreachable   the TCP gateway cannot be connected (or is in its backoff)
      ├── DeviceTimeout        no answer within the device's timeout
      └── DeviceException      the device or gateway answered with a Modbus exception code
"""

from __future__ import annotations

from core.errors import SourceError

EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


class ModbusError(SourceError):
    """A Modbus request to ``host:port`` unit ``unit`` failed."""

    def __init__(self, message: str, *, host: str, port: int, unit: int | None = None) -> None:
        where = f"{host}:{port}" + (f" unit {unit}" if unit is not None else "")
        super().__init__(f"{where}: {message}")
        self.host = host
        self.port = port
        self.unit = unit


class GatewayUnreachable(ModbusError):
    """The gateway's TCP connection could not be opened (or is waiting out its backoff)."""


class DeviceTimeout(ModbusError):
    """The device did not answer within its timeout."""


class DeviceException(ModbusError):
    """The device or the gateway answered with Modbus exception ``code``."""

    def __init__(self, code: int, *, host: str, port: int, unit: int, request: str) -> None:
        name = EXCEPTION_NAMES.get(code, "unknown exception")
        super().__init__(
            f"exception {code:#04x} ({name}) for {request}", host=host, port=port, unit=unit
        )
        self.code = code

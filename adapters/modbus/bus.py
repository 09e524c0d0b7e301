"""One Modbus TCP endpoint (a meter or an RS-485 gateway): one connection, one request at a time.

Owns pymodbus's quirks: its own reconnect loop and retries are switched off (the poller's
breakers decide when to try again), timeouts are ours (per device, not per client), and its
errors are mapped onto :mod:`adapters.modbus.errors`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from adapters.modbus.breaker import Breaker
from adapters.modbus.errors import DeviceException, DeviceTimeout, GatewayUnreachable, ModbusError

log = logging.getLogger(__name__)

# pymodbus applies this to connect and to every response; ours are shorter and per device,
# so pymodbus's own timer must never fire first (it would log an error per attempt).
_PYMODBUS_TIMEOUT_S = 3600.0


class Bus:
    """A shared connection to ``host:port`` with a lock and a connect backoff."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.lock = asyncio.Lock()
        self.requests = 0
        self.connects = 0
        self.last_error: str | None = None
        self._monotonic = monotonic
        self._client: AsyncModbusTcpClient | None = None
        # threshold 1: a gateway that refused once is not dialled again by every device on it
        self._breaker = Breaker(
            threshold=1, base_s=backoff_base_s, max_s=backoff_max_s, rng=rng or random.Random()
        )

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def reachable(self) -> bool:
        return not self._breaker.is_open

    async def _connect(self, timeout_s: float) -> AsyncModbusTcpClient:
        if self._client is not None and self._client.connected:
            return self._client
        now = self._monotonic()
        if self._breaker.is_open and now < self._breaker.retry_at:
            raise GatewayUnreachable(
                f"unreachable ({self.last_error}); next attempt in "
                f"{self._breaker.retry_at - now:.1f} s",
                host=self.host,
                port=self.port,
            )
        if self._client is not None:
            self._client.close()
        client = AsyncModbusTcpClient(
            self.host,
            port=self.port,
            reconnect_delay=0,  # reconnects are ours, with backoff
            retries=0,
            timeout=_PYMODBUS_TIMEOUT_S,
        )
        self._client = client
        self.connects += 1
        try:
            async with asyncio.timeout(timeout_s):
                ok = await client.connect()
        except TimeoutError:
            ok = False
            cause = f"connect timed out after {timeout_s:g} s"
        else:
            cause = "connection refused or host unreachable"
        if not ok:
            client.close()
            self._client = None
            self.last_error = cause
            if self._breaker.record_failure(self._monotonic()):
                log.warning("modbus gateway %s unreachable: %s", self.name, cause)
            raise GatewayUnreachable(cause, host=self.host, port=self.port)
        if self._breaker.record_success():
            log.info("modbus gateway %s reachable again", self.name)
        self.last_error = None
        return client

    async def read(
        self, *, unit: int, function: int, address: int, count: int, timeout_s: float
    ) -> list[int]:
        """Reads ``count`` registers; raises a :class:`ModbusError` subclass on failure."""
        async with self.lock:
            client = await self._connect(timeout_s)
            self.requests += 1
            request = f"fc{function} {address}+{count}"
            try:
                async with asyncio.timeout(timeout_s):
                    if function == 3:
                        rr = await client.read_holding_registers(
                            address, count=count, device_id=unit
                        )
                    else:
                        rr = await client.read_input_registers(address, count=count, device_id=unit)
            except TimeoutError:
                raise DeviceTimeout(
                    f"no answer to {request} within {timeout_s:g} s",
                    host=self.host,
                    port=self.port,
                    unit=unit,
                ) from None
            except ModbusException as exc:
                # The connection dropped under us; the next request reconnects.
                client.close()
                raise ModbusError(
                    f"{request} failed: {exc}", host=self.host, port=self.port, unit=unit
                ) from exc
            if rr.isError():
                raise DeviceException(
                    int(getattr(rr, "exception_code", 0)),
                    host=self.host,
                    port=self.port,
                    unit=unit,
                    request=request,
                )
            registers = list(rr.registers)
            if len(registers) != count:
                raise ModbusError(
                    f"{request}: answer has {len(registers)} registers",
                    host=self.host,
                    port=self.port,
                    unit=unit,
                )
            return registers

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

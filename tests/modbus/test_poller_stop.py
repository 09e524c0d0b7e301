"""Stopping the poller never hangs, even when a library under it loses the cancel request
(Python 3.11's ``asyncio.wait_for`` returns the answer and drops a cancel that arrives with
it; pymodbus awaits every answer through it)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from adapters.modbus.bus import Bus
from adapters.modbus.devices import devices_from_dict
from adapters.modbus.poller import ListSink, Poller
from tests.modbus.helpers import builtin, fleet


async def test_a_swallowed_cancel_still_stops_the_poller(monkeypatch: pytest.MonkeyPatch) -> None:
    f = fleet([builtin("eastron_sdm120")], per_profile=2, per_gateway=2)
    devices = devices_from_dict(f.device_list(interval_s=0.5, timeout_s=0.2))
    reads = 0
    swallow = True

    async def read_swallowing_cancel(self: Bus, *, count: int, **_: object) -> list[int]:
        nonlocal reads
        reads += 1
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            if not swallow:
                raise  # the library's bug (simulated) ends with the test
        return [0] * count

    monkeypatch.setattr(Bus, "read", read_swallowing_cancel)
    poller = Poller(devices, ListSink())
    task = asyncio.create_task(poller.run())
    while reads < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)  # before the fix it ran on forever
    swallow = False
    if not done:  # stop the bus loops that lost their cancel, so the test ends and fails
        for other in asyncio.all_tasks():
            if other is not asyncio.current_task():
                other.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert done, "the poller did not stop when cancelled"

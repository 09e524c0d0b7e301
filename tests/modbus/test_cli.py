"""``uchet modbus poll --once`` and ``uchet simulate modbus`` as processes over real TCP."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.modbus.helpers import builtin, fleet
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]


async def _uchet(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_poll_once_prints_json_readings_and_reports_dead_devices(tmp_path: Path) -> None:
    f = fleet([builtin("eastron_sdm120")], per_profile=3, per_gateway=3)
    dead = f.meters[2]
    from simulators.modbus import Fault

    dead.fault = Fault.EXCEPTION
    devices = tmp_path / "devices.json"
    devices.write_text(json.dumps(f.device_list(interval_s=60, timeout_s=0.5)))
    async with f:
        code, out, err = await _uchet("modbus", "poll", "--devices", str(devices), "--once",
                                      "--health")  # fmt: skip
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2 * 5
    assert {line["meter"] for line in lines} == {f.meters[0].meter, f.meters[1].meter}
    assert all(line["source"] == "modbus" and line["ts"].endswith("+00:00") for line in lines)
    assert code == 1
    assert "1 of 3 devices did not answer" in err
    assert "exception 0x04" in err  # the health dump names the error


async def test_bad_device_list_is_one_line_error(tmp_path: Path) -> None:
    devices = tmp_path / "devices.json"
    devices.write_text(json.dumps({"devices": [{"meter": "a", "host": "h", "profile": "x"}]}))
    code, _, err = await _uchet("modbus", "poll", "--devices", str(devices), "--once")
    assert code == 2
    assert err.strip().count("\n") == 0 and "unknown profile 'x'" in err


async def test_simulate_modbus_serves_a_fleet_the_poller_reads(tmp_path: Path) -> None:
    port = free_port()
    devices = tmp_path / "devices.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", "simulate", "modbus", "--profile", "eastron_sdm630:3",
        "--profile", "schneider_iem3155:2", "--per-gateway", "2", "--base-port", str(port),
        "--devices-out", str(devices), "--timeout", "0.5", "--fault",
        "schneider_iem3155-00002=timeout", cwd=ROOT, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        banner = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert b"simulating 5 Modbus meters" in banner
        code, out, _ = await _uchet("modbus", "poll", "--devices", str(devices), "--once")
    finally:
        proc.terminate()
        await proc.wait()
    meters = {json.loads(line)["meter"] for line in out.splitlines()}
    assert meters == {f"eastron_sdm630-0000{i}" for i in (1, 2, 3)} | {"schneider_iem3155-00001"}
    assert code == 1

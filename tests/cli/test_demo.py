"""`uchet demo` on the embedded defaults (pgserver, amqtt), as a newcomer runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_on_embedded_defaults_and_matches_ground_truth(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UCHET_")}
    env["UCHET_HOME"] = str(tmp_path / "home")
    cmd = [sys.executable, "-m", "api.cli", "demo", "--meters", "40", "--seed", "5"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "embedded amqtt" in out.stdout
    lines = {line.split(":")[0].strip(): line for line in out.stdout.splitlines()}
    expected = dict(
        (k, int(v))
        for k, v in (
            part.rsplit(" ", 1)
            for part in lines["expected from ground truth"].split(": ", 1)[1].split(", ")
        )
    )
    stats = subprocess.run(
        [sys.executable, "-m", "api.cli", "stats", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stats.returncode == 0, stats.stderr
    got = json.loads(stats.stdout)
    assert got["readings"] == expected["stored"]
    assert got["duplicates"] == expected.get("duplicate", 0)
    assert sum(got["quarantined"].values()) == sum(
        v for k, v in expected.items() if k.startswith("quarantine:")
    )

"""`uchet demo` on the embedded defaults (pgserver, amqtt), as a newcomer runs it: a small city
through every path, VEE and billing; what it prints agrees with its report and the store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_demo_replays_a_small_city_on_embedded_defaults(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UCHET_")}
    home = tmp_path / "home"
    env["UCHET_HOME"] = str(home)
    cmd = [sys.executable, "-m", "api.cli", "demo", "--seed", "5", "--houses", "2"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "встроенный amqtt" in out.stdout
    report = json.loads((home / "demo" / "report.json").read_text(encoding="utf-8"))
    assert report["reconciles"] and report["matches_ground_truth"]
    html = (home / "demo" / "report.html").read_text(encoding="utf-8")
    assert html.count("<canvas") == 3 and html.count("<p class='explain'>") == 3
    assert "<h2>Ошибка начислений, ₽</h2>" in html and "new Chart(" in html
    # every path printed with its reconciliation, as the report has it
    for name, p in report["paths"].items():
        line = next(x for x in out.stdout.splitlines() if x.strip().startswith(f"{name}:"))
        assert f"доставлено {p['delivered']} = записано {p['stored']}" in line
        assert "(сходится;" in line
    billed = re.search(r"начисленное \(([\d.]+) ₽\)", out.stdout)
    assert billed and Decimal(billed[1]) == Decimal(report["billing"]["errors"]["total"]["charged"])
    # the error line says what it is and whether it is expected
    verdict = next(x for x in out.stdout.splitlines() if x.startswith("  начисления:"))
    assert f"Ошибка начислений {report['billing']['errors']['total']['error']} ₽" in verdict
    assert "Она ожидаема" in verdict
    assert "Traceback" not in out.stdout + out.stderr

    # "look further" works: the printed command shows the store the demo wrote
    look = next(x for x in out.stdout.splitlines() if "uchet stats --json" in x)
    assert f"UCHET_HOME={home / 'city'}" in look
    env["UCHET_HOME"] = str(home / "city")
    stats = subprocess.run(
        [sys.executable, "-m", "api.cli", "stats", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert stats.returncode == 0, stats.stderr
    got = json.loads(stats.stdout)
    paths = report["paths"]
    assert got["readings"] == report["store"]["history_readings"] + sum(
        p["stored"] for p in paths.values()
    )
    assert got["duplicates"] == sum(p["duplicates"] for p in paths.values())
    assert sum(got["quarantined"].values()) == sum(
        sum(p["quarantined"].values()) for p in paths.values()
    )

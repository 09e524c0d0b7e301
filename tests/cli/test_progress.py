"""Progress bars of long commands (issue #20): with UCHET_PROGRESS=1 a command's stderr shows
its bar with the right total; without it (stderr is a pipe here) stderr has no bar, and
stdout — what a script reads — is the same either way."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from api.cli import main
from api.runtime import migrate_url
from core.batch import Columns, FastDecoder
from ingest.intake import Intake
from tests.mqtt_tools import reading
from tests.registers.files import comma, piramida_csv


def _final(err: str, desc: str) -> str:
    """The last state of the bar named ``desc`` (tqdm redraws it with carriage returns)."""
    states = [s for s in re.split(r"[\r\n]", err) if s.startswith(desc)]
    assert states, f"no bar {desc!r} in stderr: {err!r}"
    return states[-1]


def _count(n: int) -> str:
    """``n/n`` as the bar shows a count (whole numbers: only byte counts are scaled)."""
    return f" {n}/{n} "


def _cli(monkeypatch: pytest.MonkeyPatch, progress: str | None, *argv: str) -> int:
    if progress is None:
        monkeypatch.delenv("UCHET_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("UCHET_PROGRESS", progress)
    return main(list(argv))


def test_simulate_askue_counts_files_and_the_truth(tmp_path, monkeypatch, capsys) -> None:
    argv = ("simulate", "askue", "--points", "2", "--days", "3")
    assert _cli(monkeypatch, "1", *argv, "--out", str(tmp_path / "a")) == 0
    out = capsys.readouterr()
    files = json.loads(out.out)["files"]
    steps = files + 1  # every file, then askue_truth.json
    last = _final(out.err, "запись файлов 80020")
    assert _count(steps) in last and "100%" in last
    assert _cli(monkeypatch, None, *argv, "--out", str(tmp_path / "b")) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and json.loads(quiet.out)["files"] == files
    assert _cli(monkeypatch, "0", *argv, "--out", str(tmp_path / "c")) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.postgres
async def test_askue_import_bar_counts_the_files_bytes(db_url, monkeypatch, capsys, tmp_path):
    await migrate_url(db_url)
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    monkeypatch.setenv("UCHET_HOME", str(tmp_path / "home"))
    day = (datetime.now(UTC) - timedelta(days=3)).date()
    text = day.strftime("%d.%m.%Y")
    paths = [
        piramida_csv(
            tmp_path / f"p{k}.csv",
            [
                (f"0{1000000 + 10 * k + i}", f"10{i:05d}", text, comma(5.0 + i), comma(2.0 + i))
                for i in range(3 + k)
            ],
        )
        for k in range(2)
    ]
    total = sum(p.stat().st_size for p in paths)
    code = await asyncio.to_thread(_cli, monkeypatch, "1", "askue", "import", *map(str, paths))
    out = capsys.readouterr()
    assert code == 0
    last = _final(out.err, "импорт файлов")
    assert _count(total) in last and "100%" in last, last
    assert "p1.csv" in last  # the file being imported is named after the bar
    assert [line.split(" (")[0] for line in out.out.splitlines()] == ["p0.csv", "p1.csv"]
    # again without a bar: nothing on stderr, the same report lines (already imported)
    code = await asyncio.to_thread(_cli, monkeypatch, None, "askue", "import", *map(str, paths))
    again = capsys.readouterr()
    assert code == 0 and again.err == "" and len(again.out.splitlines()) == 2


@pytest.mark.postgres
async def test_vee_and_quarantine_replay_bars(db_url, monkeypatch, capsys, store) -> None:
    await migrate_url(db_url)
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    # three readings of a meter not known yet: held in the quarantine
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    cols = Columns()
    FastDecoder("mqtt").decode(
        [reading("m9", (now - timedelta(hours=h)).isoformat(), 10.0 - h) for h in (3, 2, 1)],
        topic_meter=None,
        out=cols,
    )
    held = await Intake(store, register_unknown=False).ingest(cols, source="mqtt")
    assert sum(held.quarantined.values()) == 3
    await store.resolve([("mqtt", "m9", "cold_water")], register=True)
    argv = ("quarantine", "replay", "--meter", "mqtt:m9:cold_water")
    assert await asyncio.to_thread(_cli, monkeypatch, "1", *argv) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["replayed"] == 3
    assert _count(3) in _final(out.err, "повтор карантина")

    period = f"{date.today():%Y-%m}"
    assert await asyncio.to_thread(_cli, monkeypatch, "1", "vee", "--period", period, "--json") == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["period"] == period
    assert _count(3) in _final(out.err, f"VEE {period}")  # load, compute, write
    vee = ("vee", "--period", period, "--json")
    assert await asyncio.to_thread(_cli, monkeypatch, None, *vee) == 0
    assert capsys.readouterr().err == ""

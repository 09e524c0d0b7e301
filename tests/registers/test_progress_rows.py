"""Progress inside one large register export (issue #20): the bar of ``uchet askue import``
moves while a file's rows are read, not only when the whole file is done."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import api.progress
from adapters.registers import csvfile
from api.cli import main
from api.runtime import migrate_url
from tests.registers.files import comma, piramida_csv

ROWS = 3 * csvfile.PROGRESS_ROWS + 100


def _big_csv(path: Path, rows: int = ROWS) -> Path:
    day = (datetime.now(UTC) - timedelta(days=3)).date().strftime("%d.%m.%Y")
    return piramida_csv(
        path,
        [
            (f"0{3000000 + i}", f"20{i:06d}", day, comma(5.0 + i % 97), comma(1.0))
            for i in range(rows)
        ],
    )


def test_csv_rows_report_the_share_read_in_blocks() -> None:
    lines = [f"{i};{i * 2}" for i in range(2 * csvfile.PROGRESS_ROWS + 10)]
    data = ("a;b\n" + "\n".join(lines) + "\n").encode()
    seen: list[float] = []
    rows, _, _ = csvfile.read_rows(
        data, encoding="auto", delimiter="auto", skip_rows=0, file="x.csv", on_fraction=seen.append
    )
    count = 0
    for _ in rows:
        count += 1
        if count == csvfile.PROGRESS_ROWS + 1:  # told after the block, while rows remain
            assert len(seen) == 1 and 0.4 < seen[0] < 0.6, seen
    assert count == len(lines) + 1
    assert len(seen) == 3 and seen == sorted(seen) and seen[-1] == 1.0
    assert 0.8 < seen[1] < 1.0


@pytest.mark.postgres
async def test_one_big_file_moves_the_bar_while_it_is_imported(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    await migrate_url(db_url)
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    monkeypatch.setenv("UCHET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("UCHET_PROGRESS", "1")
    path = _big_csv(tmp_path / "big.csv")
    size = path.stat().st_size
    positions: list[int] = []
    real = api.progress.Bar.to

    def spy(self: api.progress.Bar, done: int, total: int | None = None) -> None:
        positions.append(done)
        real(self, done, total)

    monkeypatch.setattr(api.progress.Bar, "to", spy)
    code = await asyncio.to_thread(main, ["askue", "import", str(path)])
    out = capsys.readouterr()
    assert code == 0, out
    assert f"строк {ROWS}," in out.out and f"сохранено {2 * ROWS}" in out.out
    inside = [p for p in positions if 0 < p < size]
    # reading: one report per block of rows; then the checked values; then the whole file
    assert len(set(inside)) >= 3, positions
    assert positions == sorted(positions) and positions[-1] == size
    assert "100%" in [s for s in out.err.replace("\r", "\n").splitlines() if s][-1]


def test_xlsx_rows_report_the_share_of_the_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from adapters.registers import xlsxfile

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for i in range(2 * csvfile.PROGRESS_ROWS + 10):
        sheet.append([i, i * 2])
    book.save(tmp_path / "x.xlsx")
    seen: list[float] = []
    rows = xlsxfile.read_rows(
        tmp_path / "x.xlsx", sheet=None, skip_rows=0, file="x.xlsx", on_fraction=seen.append
    )
    assert sum(1 for _ in rows) == 2 * csvfile.PROGRESS_ROWS + 10
    assert len(seen) == 2 and 0.45 < seen[0] < 0.55 and 0.95 < seen[1] <= 1.0

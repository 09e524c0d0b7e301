"""Import of opening debts from a CSV (``uchet payments opening-debts FILE``): the file read
(at most :data:`ingest.payments.MAX_FILE_BYTES`), its good rows set, every other row reported
with its line and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from adapters.payments.opening_debts import read_opening_debts
from adapters.payments.register import RowError
from adapters.store.ledger import Connection
from adapters.store.opening_debts import OpeningWrite, write_opening_debts
from ingest.payments import read_file


@dataclass(slots=True)
class OpeningReport:
    file: str
    rows: int = 0
    write: OpeningWrite = field(default_factory=OpeningWrite)
    rejected: list[RowError] = field(default_factory=list)
    error: str | None = None  # the whole file could not be read

    @property
    def ok(self) -> bool:
        return self.error is None and not self.rejected and not self.write.refused


async def import_opening_debts(conn: Connection, path: Path, until: date) -> OpeningReport:
    """Imports one file; a file that cannot be read is reported, not raised. ``until``: the
    latest period a debt may be of (the current month)."""
    report = OpeningReport(str(path))
    data = await read_file(path)
    if isinstance(data, str):
        report.error = data
        return report
    parsed = read_opening_debts(data, until)
    report.rows = len(parsed.rows)
    report.rejected = parsed.errors
    report.write = await write_opening_debts(conn, parsed.rows)
    return report

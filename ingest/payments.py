"""Import of bank payment registers: each file read through its mapping, its good rows recorded
(idempotent on the payment id), its bad rows kept with file and line, payments for unknown
accounts kept apart for an operator to assign."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from adapters.payments.mapping import PaymentMapping
from adapters.payments.register import RowError, read_register
from adapters.store.ledger import Connection, PaymentWrite, record_payments, record_rejects

MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class FileReport:
    file: str
    rows: int = 0
    write: PaymentWrite = field(default_factory=PaymentWrite)
    rejected: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # the whole file could not be read

    @property
    def ok(self) -> bool:
        return self.error is None and not self.rejected and not self.write.conflicts


def _read_limited(path: Path) -> bytes:
    with path.open("rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise OSError(f"larger than {MAX_FILE_BYTES} bytes")
    return data


async def read_file(path: Path) -> bytes | str:
    """The file's bytes (at most :data:`MAX_FILE_BYTES`), or why it cannot be read."""
    try:
        return await asyncio.to_thread(_read_limited, path)
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"


async def import_register(conn: Connection, path: Path, mapping: PaymentMapping) -> FileReport:
    """Imports one register file; a file that cannot be read is reported, not raised."""
    report = FileReport(str(path))
    data = await read_file(path)
    if isinstance(data, str):
        report.error = data
        return report
    register = read_register(data, mapping)
    report.rows = len(register.rows)
    report.rejected = register.errors
    if register.summary is not None:
        count, kopecks = register.summary
        got = (len(register.rows) + len(register.errors), sum(r.amount for r in register.rows))
        if count != got[0] or (not register.errors and kopecks != got[1]):
            report.warnings.append(
                f"the register's totals line says {count} rows, {kopecks / 100:.2f}; "
                f"read {got[0]} rows, {got[1] / 100:.2f} in good rows"
            )
    source = path.name
    if register.errors:
        await record_rejects(conn, source, register.errors)
    if register.rows:
        report.write = await record_payments(conn, register.rows, source)
    return report

"""Import of register exports (CSV/XLSX through a mapping) through the :class:`Intake`.

The same path as every source: the registry rule for unknown meters, the streaming validation
(a reading lower than the last one is ``register_rollback``, a date ahead of now
``future_timestamp``), an idempotent write, and the quarantine — each quarantined reading
carrying its file and row number. Re-importing changes nothing: a file already imported with
the same mapping (same bytes) is recognised and skipped; the same rows in another file are
duplicates, and bad rows already in the quarantine are not quarantined twice. The adapter
(:mod:`adapters.registers`) reads the file into a table of columns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from adapters.registers.errors import RegisterFileError
from adapters.registers.importer import (
    DEFAULT_MAX_BYTES,
    FILE_PREFIX,
    LIST_LIMIT,
    ROWS_LIMIT,
    RegisterReport,
    problem_row,
    read_table,
    rows_of,
)
from adapters.registers.mapping import Mapping
from adapters.registers.table import Table
from adapters.store.files import FileRecord, is_imported, record_file
from adapters.store.queries import quarantined_already
from adapters.store.writer import QuarantineRow
from core.batch import EPOCH
from ingest.intake import Intake
from ingest.validate import Validated


class RegisterImporter:
    """Imports register files one by one through ``intake``."""

    def __init__(
        self, intake: Intake, *, tz: str = "Europe/Moscow", max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.intake = intake
        self.store = intake.store
        self.tz = tz
        self.max_bytes = max_bytes

    async def import_file(
        self,
        path: Path,
        mapping: Mapping,
        *,
        on_stage: Callable[[str], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> RegisterReport:
        """Imports one file; ``on_stage(text)`` is told each step as it starts.

        ``on_progress(done, total)`` counts the file's bytes: while a CSV file is read, every
        few thousand rows, the share read (up to :data:`READ_SHARE` of them; called from the
        reading thread); the checked values up to :data:`CHECKED_SHARE`; the whole file once
        it is written (or found already imported, or failed).
        """
        stage = on_stage or _quiet
        path = Path(path)
        report = RegisterReport(file=path.name, mapping=mapping.name)
        progress = _Progress(path, on_progress)
        stage("чтение таблицы")
        try:
            # reading is CPU work: keep the event loop (a gateway's sources) responsive
            table, digest, (report.encoding, report.delimiter) = await asyncio.to_thread(
                read_table,
                path,
                mapping,
                tz=self.tz,
                max_bytes=self.max_bytes,
                on_fraction=progress.reading,
            )
        except RegisterFileError as exc:
            report.status, report.error = "failed", str(exc)
            progress.done()
            return report
        sender = FILE_PREFIX + mapping.name
        if await is_imported(self.store, sender, digest):
            report.status = "already_imported"
            progress.done()
            return report
        cols = table.cols
        report.rows, report.skipped_rows, report.values = (
            table.data_rows,
            table.skipped_rows,
            len(cols.ts),
        )
        report.empty_intervals = table.empty_intervals
        stage(f"проверка {report.values} значений")
        new = await self._new_meters(table, mapping.source)
        validated = await self.intake.prepare(cols)
        quarantine, problem_rows = self._located(path.name, table, mapping.source, validated)
        held = await quarantined_already(self.store, quarantine)
        keep = [i for i, q in enumerate(quarantine) if q not in held]
        report.already_quarantined = len(quarantine) - len(keep)
        validated.quarantine = quarantine = [quarantine[i] for i in keep]
        problem_rows = [problem_rows[i] for i in keep]
        progress.share(CHECKED_SHARE)
        stage(f"запись {report.values} значений")
        result = await self.intake.write(validated, source=mapping.source)
        report.stored = result.stored
        report.duplicates = result.duplicates
        report.conflicts = result.conflicts
        refused = result.quarantine[len(quarantine) :]  # rows the store refused (isolated)
        quarantine = quarantine + refused
        problem_rows = problem_rows + [0] * len(refused)
        by_reason: dict[str, set[int]] = {}
        for q, row in zip(quarantine, problem_rows, strict=True):
            report.quarantined[q.reason] += 1
            by_reason.setdefault(q.reason, set()).add(row)
        report.quarantined_rows = {r: sorted(rows)[:ROWS_LIMIT] for r, rows in by_reason.items()}
        report.problem_count = len(quarantine)
        order = sorted(range(len(quarantine)), key=problem_rows.__getitem__)[:LIST_LIMIT]
        report.problems = [
            {
                "row": problem_rows[i],
                "reason": quarantine[i].reason,
                "meter": quarantine[i].meter,
                "channel": quarantine[i].channel,
                "detail": quarantine[i].detail,
            }
            for i in order
        ]
        report.new_meter_count = len(new)
        lookup = self.store.registry.lookup
        report.new_meters = [
            {
                "meter": meter,
                "channel": channel,
                "account": hint[1],
                "premise": hint[2],
                "row": hint[0],
                "registered": lookup((mapping.source, meter, channel)) is not None,
            }
            for (meter, channel), hint in sorted(new.items(), key=lambda kv: (kv[1][0], kv[0]))[
                :LIST_LIMIT
            ]
        ]
        record = FileRecord(None, sender, self._first_day(table), 0, path.name, digest, 0)
        await record_file(self.store, record, report.as_dict(), supersede=None)
        progress.done()
        return report

    @staticmethod
    def _located(
        name: str, table: Table, source: str, validated: Validated
    ) -> tuple[list[QuarantineRow], list[int]]:
        """The file's bad rows and the validator's quarantine, each with its file row."""
        quarantine = [problem_row(p, source) for p in table.problems]
        rows = rows_of(table, validated.quarantine)
        for q, row in zip(validated.quarantine, rows, strict=True):
            where = f"{name}, row {row}: " if row else f"{name}: "
            quarantine.append(
                QuarantineRow(q.source, q.reason, where + q.detail, q.meter, q.channel, q.payload)
            )
        return quarantine, [p.row for p in table.problems] + rows

    async def _new_meters(
        self, table: Table, source: str
    ) -> dict[tuple[str, str], tuple[int, str | None, str | None]]:
        """(meter, channel) pairs of the file that the registry has never seen, with hints."""
        lookup = self.store.registry.lookup
        keys = {
            (m, c)
            for m, c in zip(table.cols.meter, table.cols.channel, strict=True)
            if lookup((source, m, c)) is None
        }
        if not keys:
            return {}
        # Resolving without registering fills the registry cache with the meters that exist,
        # so the validator registers only the new ones (an INSERT per known meter is slow).
        known = await self.store.resolve(sorted((source, m, c) for m, c in keys), register=False)
        new = keys - {(m, c) for _, m, c in known}
        return {(m, c): table.hints[m] for m, c in new}

    def _first_day(self, table: Table) -> date:
        if not table.cols.ts:
            return datetime.now(UTC).date()
        first = EPOCH.timestamp() + int(np.min(np.array(table.cols.ts, dtype=np.int64))) / 1e6
        return datetime.fromtimestamp(first, ZoneInfo(self.tz)).date()


def _quiet(stage: str) -> None:
    """No progress wanted."""


READ_SHARE = 0.5
"""Share of a file's bytes on a progress bar that reading its rows stands for (a 200,000-row
CSV: about 2 of 9 s; registering its new meters and checking the values take the most)."""
CHECKED_SHARE = 0.75
"""Share reached when the values are checked and the write begins."""


class _Progress:
    """A file's progress in bytes for ``on_progress(done, total)``; never goes back."""

    def __init__(self, path: Path, report: Callable[[int, int], None] | None) -> None:
        self.report = report
        try:
            self.total = path.stat().st_size
        except OSError:  # reported by the reader
            self.total = 0
        self.at = 0

    def share(self, share: float) -> None:
        done = int(self.total * min(max(share, 0.0), 1.0))
        if self.report is not None and done > self.at:
            self.at = done
            self.report(done, self.total)

    def reading(self, fraction: float) -> None:
        self.share(READ_SHARE * fraction)

    def done(self) -> None:
        self.share(1.0)

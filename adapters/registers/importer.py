"""Import of register exports (CSV/XLSX through a mapping) into the store, with a report per file.

The same path as every source: the registry rule for unknown meters, the streaming validation
(a reading lower than the last one is ``register_rollback``, a date ahead of now
``future_timestamp``), an idempotent write, and the quarantine — each quarantined reading
carrying its file and row number. Re-importing changes nothing: a file already imported with
the same mapping (same bytes) is recognised and skipped; the same rows in another file are
duplicates, and bad rows already in the quarantine are not quarantined twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from adapters.registers import csvfile, xlsxfile
from adapters.registers.errors import RegisterFileError
from adapters.registers.mapping import Mapping
from adapters.registers.table import Problem, Table, TableReader
from adapters.store import ReadingStore
from adapters.store.db import store_errors
from adapters.store.writer import QuarantineRow
from core.batch import EPOCH, to_us
from core.validation import Limits
from ingest.validate import Validator

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
LIST_LIMIT = 1000
"""Items listed in a report per list (problems, new meters); the counts are always complete."""
ROWS_LIMIT = 10_000
"""Row numbers listed per quarantine reason."""
FILE_PREFIX = "registers:"
"""``askue_files.sender_inn`` of register exports: ``registers:<mapping name>``."""


@dataclass(slots=True)
class RegisterReport:
    """What happened to one file; ``as_dict()`` is the report written beside it."""

    file: str
    mapping: str | None = None
    status: str = "imported"  # imported | already_imported | failed
    encoding: str | None = None
    delimiter: str | None = None
    rows: int = 0
    skipped_rows: int = 0
    values: int = 0
    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    quarantined_rows: dict[str, list[int]] = field(default_factory=dict)
    already_quarantined: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    problem_count: int = 0
    new_meters: list[dict[str, Any]] = field(default_factory=list)
    new_meter_count: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": "registers",
            "mapping": self.mapping,
            "status": self.status,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "rows": self.rows,
            "skipped_rows": self.skipped_rows,
            "values": self.values,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "quarantined": dict(self.quarantined),
            "quarantined_rows": self.quarantined_rows,
            "already_quarantined": self.already_quarantined,
            "problem_count": self.problem_count,
            "problems": self.problems,
            "new_meter_count": self.new_meter_count,
            "new_meters": self.new_meters,
            "error": self.error,
        }

    def summary(self) -> str:
        if self.status == "failed":
            return f"{self.file}: FAILED: {self.error}"
        if self.status == "already_imported":
            return f"{self.file}: already imported with mapping {self.mapping}, nothing changed"
        parts = [
            f"{self.rows} rows, {self.values} values",
            f"stored {self.stored}",
            f"duplicates {self.duplicates}",
        ]
        if self.conflicts:
            parts.append(f"conflicts {self.conflicts}")
        for reason, rows in sorted(self.quarantined_rows.items()):
            shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
            parts.append(f"quarantined {reason} {self.quarantined[reason]} (rows {shown})")
        if self.already_quarantined:
            parts.append(f"already in quarantine {self.already_quarantined}")
        if self.new_meter_count:
            parts.append(f"new meters {self.new_meter_count}")
        return f"{self.file} (mapping {self.mapping}): " + ", ".join(parts)


def read_table(path: Path, mapping: Mapping, *, tz: str, max_bytes: int) -> tuple[Table, str, Any]:
    """Reads ``path`` through ``mapping``: the table, the file's sha256 and the CSV details."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise RegisterFileError(name, f"{size} bytes, larger than the limit of {max_bytes}")
        data = path.read_bytes()
    except OSError as exc:
        raise RegisterFileError(name, f"cannot read the file: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    reader = TableReader(mapping, tz=tz, file=name)
    workbook = data.startswith(xlsxfile.ZIP_MAGIC)
    if mapping.format == "xlsx" and not workbook:
        raise RegisterFileError(name, f"mapping {mapping.name!r} is for XLSX; this is not")
    if mapping.format == "csv" and workbook:
        raise RegisterFileError(name, f"mapping {mapping.name!r} is for CSV; this is XLSX/ZIP")
    if workbook:
        rows = xlsxfile.read_rows(
            io.BytesIO(data), sheet=mapping.sheet, skip_rows=mapping.skip_rows, file=name
        )
        return reader.read(rows), digest, (None, None)
    csv_rows, encoding, delimiter = csvfile.read_rows(
        data,
        encoding=mapping.encoding,
        delimiter=mapping.delimiter,
        skip_rows=mapping.skip_rows,
        file=name,
    )
    return reader.read(csv_rows), digest, (encoding, delimiter)


def _key_of(q: QuarantineRow) -> tuple[str | None, str | None, int, float] | None:
    try:
        doc = json.loads(q.payload)
        ts = to_us(datetime.fromisoformat(doc["ts"]))
        return q.meter, q.channel, ts, float(doc["value"])
    except (ValueError, KeyError, TypeError):
        return None


def _problem_row(p: Problem, source: str) -> QuarantineRow:
    return QuarantineRow(source, p.reason, p.detail, p.meter, p.channel, p.payload)


class RegisterImporter:
    """Imports register files one by one into ``store``; one validator (and its state) for all."""

    def __init__(
        self,
        store: ReadingStore,
        *,
        tz: str = "Europe/Moscow",
        register_unknown: bool = True,
        max_bytes: int = DEFAULT_MAX_BYTES,
        validator: Validator | None = None,
    ) -> None:
        self.store = store
        self.tz = tz
        self.register_unknown = register_unknown
        self.max_bytes = max_bytes
        self.validator = validator or Validator(
            store, limits=Limits(), register_unknown=register_unknown
        )

    async def import_file(self, path: Path, mapping: Mapping) -> RegisterReport:
        path = Path(path)
        report = RegisterReport(file=path.name, mapping=mapping.name)
        try:
            # reading is CPU work: keep the event loop (a gateway's sources) responsive
            table, digest, (report.encoding, report.delimiter) = await asyncio.to_thread(
                read_table, path, mapping, tz=self.tz, max_bytes=self.max_bytes
            )
        except RegisterFileError as exc:
            report.status, report.error = "failed", str(exc)
            return report
        sender = FILE_PREFIX + mapping.name
        async with store_errors("register file registry"), self.store.pool.acquire() as conn:
            if await conn.fetchval(
                "SELECT 1 FROM askue_files WHERE sender_inn = $1 AND sha256 = $2", sender, digest
            ):
                report.status = "already_imported"
                return report
        cols = table.cols
        report.rows, report.skipped_rows, report.values = (
            table.data_rows,
            table.skipped_rows,
            len(cols.ts),
        )
        new = await self._new_meters(table, mapping.source)
        validated = await self.validator.validate(cols)
        quarantine = [_problem_row(p, mapping.source) for p in table.problems]
        rows_of = self._rows_of(table, validated.quarantine)
        for q, row in zip(validated.quarantine, rows_of, strict=True):
            where = f"{path.name}, row {row}: " if row else f"{path.name}: "
            quarantine.append(
                QuarantineRow(q.source, q.reason, where + q.detail, q.meter, q.channel, q.payload)
            )
        problem_rows = [p.row for p in table.problems] + rows_of
        quarantine, problem_rows, report.already_quarantined = await self._not_yet_quarantined(
            quarantine, problem_rows
        )
        result = await self.store.write_arrays(
            validated.meter, validated.ts, validated.value, validated.kind, validated.flags,
            validated.end, quarantine, source=mapping.source,
        )  # fmt: skip
        self.validator.commit(validated)
        report.stored = result.inserted
        report.duplicates = result.duplicates
        report.conflicts = result.conflicts
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
        await self._record_file(sender, path.name, digest, self._first_day(table), report)
        return report

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

    @staticmethod
    def _rows_of(table: Table, quarantine: list[QuarantineRow]) -> list[int]:
        """The file row of each quarantined reading (0 when it cannot be told)."""
        if not quarantine:
            return []
        keys = [_key_of(q) for q in quarantine]
        wanted = set(keys)
        found: dict[object, list[int]] = {}
        cols = table.cols
        for i, element in enumerate(
            zip(cols.meter, cols.channel, cols.ts, cols.value, strict=True)
        ):
            if element in wanted:
                found.setdefault(element, []).append(table.rows[i])
        rows = []
        for key in keys:
            candidates = found.get(key)
            rows.append(candidates.pop(0) if candidates else 0)
        return rows

    async def _not_yet_quarantined(
        self, quarantine: list[QuarantineRow], rows: list[int]
    ) -> tuple[list[QuarantineRow], list[int], int]:
        """Drops the rows the quarantine already holds (same source, reason and payload)."""
        if not quarantine:
            return quarantine, rows, 0
        meters = sorted({q.meter for q in quarantine if q.meter is not None})
        async with store_errors("read quarantine"), self.store.pool.acquire() as conn:
            held = await conn.fetch(
                "SELECT source, reason, payload FROM quarantine WHERE replayed_at IS NULL"
                " AND (meter = ANY($1::text[]) OR (meter IS NULL AND $2))",
                meters,
                any(q.meter is None for q in quarantine),
            )
        seen = {(r["source"], r["reason"], bytes(r["payload"])) for r in held}
        keep = [i for i, q in enumerate(quarantine) if (q.source, q.reason, q.payload) not in seen]
        return [quarantine[i] for i in keep], [rows[i] for i in keep], len(quarantine) - len(keep)

    def _first_day(self, table: Table) -> date:
        if not table.cols.ts:
            return datetime.now(UTC).date()
        first = EPOCH.timestamp() + int(np.min(np.array(table.cols.ts, dtype=np.int64))) / 1e6
        return datetime.fromtimestamp(first, ZoneInfo(self.tz)).date()

    async def _record_file(
        self, sender: str, name: str, digest: str, day: date, report: RegisterReport
    ) -> None:
        async with store_errors("register file registry"), self.store.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO askue_files (sender_inn, day, number, file_name, sha256, receipt,"
                " report) VALUES ($1, $2, 0, $3, $4, 0, $5::jsonb)"
                " ON CONFLICT (sender_inn, day, number, sha256) DO NOTHING",
                sender, day, name, digest, json.dumps(report.as_dict(), ensure_ascii=False),
            )  # fmt: skip

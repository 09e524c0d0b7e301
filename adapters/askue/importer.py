"""Import of 80020 files into the store: idempotent, with corrections and a report per file.

A file already imported (same sender, day, number and content) changes nothing. A file with a
higher number than those imported for its sender and day is a correction: its values replace
the stored ones (each replacement recorded in ``corrections``) and the earlier files are
marked superseded by it. A file with a lower number than one already imported is kept out
where the newer file holds the value (counted as superseded). Values go through the same
validation as every source (unknown points follow the registry rule; bad values are
quarantined with a reason); the parser's located errors are reported per value.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.askue.errors import AskueError, FileTooLargeError, ReceiptStatus
from adapters.askue.model import ParsedFile
from adapters.askue.parser import DEFAULT_MAX_ERRORS, parse_bytes
from adapters.askue.reader import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S
from adapters.askue.readings import CHANNEL_OBIS, SOURCE
from adapters.store import ReadingStore
from adapters.store.db import store_errors
from core.batch import Columns, to_us
from core.reading import Kind
from core.validation import Limits
from ingest.validate import Validator


@dataclass(slots=True)
class FileReport:
    """What happened to one file; ``as_dict()`` is the report written beside it."""

    file: str
    status: str = "imported"  # imported | already_imported | failed
    receipt: int = int(ReceiptStatus.ACCEPTED)
    sender_inn: str | None = None
    day: str | None = None
    number: int | None = None
    values: int = 0
    accepted: int = 0
    duplicates: int = 0
    superseded: int = 0
    conflicts: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_count: int = 0
    supersedes: list[str] = field(default_factory=list)
    superseded_by: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "receipt": self.receipt,
            "receipt_text": ReceiptStatus(self.receipt).name.lower(),
            "sender_inn": self.sender_inn,
            "day": self.day,
            "number": self.number,
            "values": self.values,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "superseded": self.superseded,
            "conflicts": self.conflicts,
            "quarantined": dict(self.quarantined),
            "rejected_count": self.rejected_count,
            "rejected": self.rejected,
            "supersedes": self.supersedes,
            "superseded_by": self.superseded_by,
            "error": self.error,
        }

    def summary(self) -> str:
        if self.status == "failed":
            return f"{self.file}: FAILED (80021 status {self.receipt}): {self.error}"
        if self.status == "already_imported":
            return f"{self.file}: already imported, nothing changed"
        parts = [
            f"{self.values} values",
            f"accepted {self.accepted}",
            f"duplicates {self.duplicates}",
            f"superseded {self.superseded}",
        ]
        if self.quarantined:
            parts.append(f"quarantined {dict(self.quarantined)}")
        if self.rejected_count:
            parts.append(f"rejected {self.rejected_count} (see the report)")
        if self.supersedes:
            parts.append(f"corrects {', '.join(self.supersedes)}")
        if self.superseded_by:
            parts.append(f"already corrected by {self.superseded_by}")
        return f"{self.file}: number {self.number}, 80021 status {self.receipt}: " + ", ".join(
            parts
        )


def to_columns(parsed: ParsedFile) -> Columns:
    """The file's values as a columnar batch (interval readings; exact decimals to float)."""
    cols = Columns()
    starts: dict[datetime, int] = {}
    for series in parsed.series:
        meter = series.point.code
        channel = CHANNEL_OBIS[series.channel]
        for period, value, flags in zip(series.periods, series.values, series.flags, strict=True):
            if value is None:
                continue
            start = starts.get(period.start_utc)
            if start is None:
                start = starts[period.start_utc] = to_us(period.start_utc)
            cols.source.append(SOURCE)
            cols.meter.append(meter)
            cols.channel.append(channel)
            cols.ts.append(start)
            cols.value.append(float(value))
            cols.kind.append(Kind.INTERVAL)
            cols.flags.append(flags)
            cols.end.append(to_us(period.end_utc))
    return cols


def _located(error: AskueError) -> dict[str, Any]:
    return {
        "error": error.message,
        "reason": error.reason,
        "receipt": int(error.receipt),
        "point": error.point,
        "channel": error.channel,
        "period": error.period,
        "line": error.line,
    }


class AskueImporter:
    """Imports files one by one into ``store``; one validator (and its state) for all."""

    def __init__(
        self,
        store: ReadingStore,
        *,
        tz: str = "Europe/Moscow",
        register_unknown: bool = True,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        validator: Validator | None = None,
    ) -> None:
        self.store = store
        self.tz = tz
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.validator = validator or Validator(
            store, limits=Limits(), register_unknown=register_unknown
        )

    def _parse(self, path: Path) -> tuple[ParsedFile, str]:
        name = str(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            from adapters.askue.errors import NotXmlError

            raise NotXmlError(name, f"cannot read the file: {exc.strerror or exc}") from exc
        if size > self.max_bytes:
            raise FileTooLargeError(
                name, f"{size} bytes, larger than the limit of {self.max_bytes}"
            )
        data = path.read_bytes()
        parsed = parse_bytes(
            data, name, tz=self.tz, max_bytes=self.max_bytes, timeout_s=self.timeout_s,
            max_errors=DEFAULT_MAX_ERRORS,
        )  # fmt: skip
        return parsed, hashlib.sha256(data).hexdigest()

    async def import_file(self, path: Path) -> FileReport:
        report = FileReport(file=path.name)
        try:
            # parsing is CPU work: keep the event loop (a gateway's sources) responsive
            parsed, digest = await asyncio.to_thread(self._parse, path)
        except AskueError as exc:
            report.status = "failed"
            report.receipt = int(exc.receipt)
            report.error = exc.detail
            return report
        header = parsed.header
        report.sender_inn = header.sender_inn
        report.day = header.day.isoformat()
        report.number = header.number
        report.receipt = int(parsed.receipt)
        report.values = parsed.value_count
        report.rejected = [_located(e) for e in parsed.errors]
        report.rejected_count = parsed.error_count
        async with store_errors("askue file registry"), self.store.pool.acquire() as conn:
            known = await conn.fetch(
                "SELECT id, number, sha256, file_name FROM askue_files"
                " WHERE sender_inn = $1 AND day = $2",
                header.sender_inn,
                header.day,
            )
            if any(k["number"] == header.number and k["sha256"] == digest for k in known):
                report.status = "already_imported"
                return report
            file_id = await conn.fetchval("SELECT nextval('askue_files_id_seq')")
        newest = max((k["number"] for k in known), default=None)
        mode = "first"
        if newest is not None and header.number > newest:
            mode = "supersede"
        elif newest is not None and header.number < newest:
            mode = "older"
        cols = to_columns(parsed)
        validated = await self.validator.validate(cols)
        result = await self.store.write_arrays(
            validated.meter, validated.ts, validated.value, validated.kind, validated.flags,
            validated.end, validated.quarantine, source=SOURCE, mode=mode,
            correction_ref=file_id,
        )  # fmt: skip
        self.validator.commit(validated)
        report.accepted = result.inserted
        report.duplicates = result.duplicates
        report.superseded = result.superseded
        report.conflicts = result.conflicts
        report.quarantined.update(q.reason for q in validated.quarantine)
        async with store_errors("askue file registry"), self.store.pool.acquire() as conn:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO askue_files (id, sender_inn, day, number, file_name, sha256,"
                    " receipt, report) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)"
                    " ON CONFLICT (sender_inn, day, number, sha256) DO NOTHING",
                    file_id, header.sender_inn, header.day, header.number, path.name, digest,
                    report.receipt, json.dumps(report.as_dict(), ensure_ascii=False),
                )  # fmt: skip
                if mode == "supersede" or mode == "first":
                    older = await conn.fetch(
                        "UPDATE askue_files SET superseded_by = $1 WHERE sender_inn = $2"
                        " AND day = $3 AND number < $4 AND id <> $1"
                        " AND (superseded_by IS NULL OR superseded_by IN"
                        "  (SELECT id FROM askue_files WHERE number < $4))"
                        " RETURNING file_name",
                        file_id, header.sender_inn, header.day, header.number,
                    )  # fmt: skip
                    report.supersedes = sorted(r["file_name"] for r in older)
                else:
                    newer = await conn.fetchrow(
                        "SELECT id, file_name FROM askue_files WHERE sender_inn = $1 AND day = $2"
                        " ORDER BY number DESC LIMIT 1",
                        header.sender_inn, header.day,
                    )  # fmt: skip
                    await conn.execute(
                        "UPDATE askue_files SET superseded_by = $1 WHERE id = $2",
                        newer["id"], file_id,
                    )  # fmt: skip
                    report.superseded_by = newer["file_name"]
                await conn.execute(
                    "UPDATE askue_files SET report = $2::jsonb WHERE id = $1",
                    file_id, json.dumps(report.as_dict(), ensure_ascii=False),
                )  # fmt: skip
        return report

    async def import_files(self, paths: Iterable[Path]) -> list[FileReport]:
        """Imports each file; a bad file is reported and the next one is imported."""
        return [await self.import_file(Path(p)) for p in paths]


async def import_files(
    store: ReadingStore,
    paths: Iterable[Path],
    *,
    timezone: str = "Europe/Moscow",
    register_unknown: bool = True,
) -> list[FileReport]:
    """Imports 80020 files into ``store``, one report per file (see :class:`AskueImporter`)."""
    importer = AskueImporter(store, tz=timezone, register_unknown=register_unknown)
    return await importer.import_files(paths)

"""Import of 80020 files through the :class:`Intake`: idempotent, with corrections.

A file already imported (same sender, day, number and content) changes nothing. A file with a
higher number than those imported for its sender and day is a correction: its values replace
the stored ones (each replacement recorded in ``corrections``) and the earlier files are
marked superseded by it. A file with a lower number than one already imported is kept out
where the newer file holds the value (counted as superseded). The adapter
(:mod:`adapters.askue`) turns the file into columns; this module decides how they are written.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from pathlib import Path

from adapters.askue.errors import AskueError
from adapters.askue.importer import FileReport, located, parse_file, to_columns
from adapters.askue.reader import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S
from adapters.askue.readings import CHANNEL_OBIS, SOURCE
from adapters.store.files import FileRecord, files_of_day, new_file_id, record_file
from adapters.store.writer import QuarantineRow, WriteMode
from ingest.intake import Intake


class AskueImporter:
    """Imports 80020 files one by one through ``intake``."""

    def __init__(
        self,
        intake: Intake,
        *,
        tz: str = "Europe/Moscow",
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.intake = intake
        self.store = intake.store
        self.tz = tz
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def import_file(self, path: Path) -> FileReport:
        report = FileReport(file=path.name)
        try:
            # parsing is CPU work: keep the event loop (a gateway's sources) responsive
            parsed, digest = await asyncio.to_thread(
                parse_file, path, tz=self.tz, max_bytes=self.max_bytes, timeout_s=self.timeout_s
            )
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
        report.rejected = [located(e) for e in parsed.errors]
        report.rejected_count = parsed.error_count
        known = await files_of_day(self.store, header.sender_inn, header.day)
        if any(k.number == header.number and k.sha256 == digest for k in known):
            report.status = "already_imported"
            return report
        file_id = await new_file_id(self.store)
        newest = max((k.number for k in known), default=None)
        mode: WriteMode = "first"
        if newest is not None and header.number > newest:
            mode = "supersede"
        elif newest is not None and header.number < newest:
            mode = "older"
        # Values the parser could not read go to the quarantine beside the validator's, each
        # with its reason and where it was (the report lists them too).
        parse_errors = [_quarantine_row(path.name, e) for e in parsed.errors]
        result = await self.intake.ingest(
            to_columns(parsed), source=SOURCE, mode=mode, correction_ref=file_id,
            annotate=lambda v: v.quarantine.extend(parse_errors),
        )  # fmt: skip
        report.accepted = result.stored
        report.duplicates = result.duplicates
        report.superseded = result.superseded
        report.conflicts = result.conflicts
        report.quarantined.update(result.quarantined)
        record = FileRecord(
            file_id, header.sender_inn, header.day, header.number, path.name, digest,
            report.receipt,
        )  # fmt: skip
        report.supersedes, report.superseded_by = await record_file(
            self.store, record, report.as_dict(), supersede=mode != "older"
        )
        return report

    async def import_files(self, paths: Iterable[Path]) -> list[FileReport]:
        """Imports each file; a bad file is reported and the next one is imported."""
        return [await self.import_file(Path(p)) for p in paths]


def _quarantine_row(file: str, error: AskueError) -> QuarantineRow:
    where = located(error)
    channel = CHANNEL_OBIS.get(error.channel or "")
    return QuarantineRow(
        SOURCE,
        error.reason,
        f"{file}: {error.detail}",
        error.point,
        channel,
        json.dumps({"file": file, **where}, ensure_ascii=False).encode(),
    )

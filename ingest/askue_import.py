"""Import of 80020 files through the :class:`Intake`: idempotent, with corrections.

A file already imported (same sender, day, number and content) changes nothing. A file with a
higher number than those imported for its sender and day is a correction: its values replace
the stored ones (each replacement recorded in ``corrections``) and the earlier files are
marked superseded by it. A file with a lower number than one already imported is kept out
where the newer file holds the value (counted as superseded). A file re-sent with the same
number and other content is not a correction: its differing values are recorded as conflicts,
the stored ones kept, and the report's ``note`` says so. The adapter
(:mod:`adapters.askue`) turns the file into columns; this module decides how they are written.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from adapters.askue.channels import load_table
from adapters.askue.errors import AskueError, UnknownChannelError
from adapters.askue.importer import (
    FileReport,
    channels_read,
    extended_statuses,
    located,
    parse_file,
    to_columns,
)
from adapters.askue.model import ParsedFile
from adapters.askue.reader import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S
from adapters.askue.readings import CHANNEL_OBIS, SOURCE
from adapters.store.files import FileRecord, files_of_day, new_file_id, record_file
from adapters.store.writer import QuarantineRow, WriteMode
from core.codes import Reason
from ingest.intake import Intake

MAX_QUARANTINED = 200_000
"""Errors kept per file, each quarantined (~0.7 KiB each in memory): every value the parser
could not read, up to this many; past it one more row says how many were not listed."""
REPORTED_ERRORS = 100
"""Errors listed in a file's report (all are counted and quarantined)."""


class AskueImporter:
    """Imports 80020 files one by one through ``intake``."""

    def __init__(
        self,
        intake: Intake,
        *,
        tz: str = "Europe/Moscow",
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        channels: Mapping[str, str] | None = None,
        home: Path | None = None,
    ) -> None:
        self.intake = intake
        self.store = intake.store
        self.tz = tz
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        # the site's channel table: given, else $UCHET_HOME/askue-channels.json
        self.channels = dict(channels) if channels is not None else load_table(home)

    async def import_file(
        self, path: Path, *, on_stage: Callable[[str], None] | None = None
    ) -> FileReport:
        """Imports one file; ``on_stage(text)`` is told each step as it starts."""
        stage = on_stage or _quiet
        report = FileReport(file=path.name)
        stage("разбор XML")
        try:
            # parsing is CPU work: keep the event loop (a gateway's sources) responsive
            parsed, digest = await asyncio.to_thread(
                parse_file, path, tz=self.tz, max_bytes=self.max_bytes,
                timeout_s=self.timeout_s, channels=self.channels, max_errors=MAX_QUARANTINED,
            )  # fmt: skip
        except AskueError as exc:
            report.status = "failed"
            report.receipt = int(exc.receipt)
            report.error = exc.detail
            return report
        header = parsed.header
        report.sender_inn = header.sender_inn
        report.day = header.day.isoformat()
        report.number = header.number
        report.message_class = header.message_class
        report.receipt = int(parsed.receipt)
        # every value of the file: read, or of a channel not known (quarantined one by one)
        report.values = parsed.value_count + parsed.unmapped_count
        report.unknown_channel_values = parsed.unmapped_count
        report.rejected = [located(e) for e in parsed.errors[:REPORTED_ERRORS]]
        report.rejected_count = parsed.error_count
        report.channels_read = channels_read(parsed)
        report.extended_statuses = extended_statuses(parsed)
        known = await files_of_day(self.store, header.sender_inn, header.day)
        if any(k.number == header.number and k.sha256 == digest for k in known):
            report.status = "already_imported"
            return report
        resent = [k for k in known if k.number == header.number]
        file_id = await new_file_id(self.store)
        newest = max((k.number for k in known), default=None)
        mode: WriteMode = "first"
        if newest is not None and header.number > newest:
            mode = "supersede"
        elif newest is not None and header.number < newest:
            mode = "older"
        # Values the parser could not read go to the quarantine beside the validator's, each
        # with its reason and where it was (the report lists them too).
        parse_errors = [
            _quarantine_row(path.name, e, n)
            for n, e in enumerate(parsed.errors, 1)
            if not isinstance(e, UnknownChannelError)  # its values are quarantined one by one
        ]
        parse_errors += unknown_channel_rows(path.name, parsed)
        more = parsed.error_count - len(parsed.errors)
        if more > 0:
            parse_errors.append(
                QuarantineRow(
                    SOURCE, Reason.MALFORMED,
                    f"{path.name}: {more} more errors past the first {len(parsed.errors)}, not"
                    " quarantined one by one (the file is mostly unreadable)",
                    None, None,
                    json.dumps({"file": path.name, "more_errors": more}).encode(),
                )
            )  # fmt: skip
        stage(f"проверка и запись {report.values} значений")
        result = await self.intake.ingest(
            to_columns(parsed), source=SOURCE, mode=mode, correction_ref=file_id,
            annotate=lambda v: v.quarantine.extend(parse_errors),
        )  # fmt: skip
        report.accepted = result.stored
        report.duplicates = result.duplicates
        report.superseded = result.superseded
        report.conflicts = result.conflicts
        report.quarantined.update(result.quarantined)
        report.note = _note(report, parsed, resent[0].file_name if resent else None)
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


def _quiet(stage: str) -> None:
    """No progress wanted."""


def unknown_channel_rows(file: str, parsed: ParsedFile) -> list[QuarantineRow]:
    """One quarantine row per value of a channel the parser could not read as 01..04."""
    rows = []
    for s in parsed.unmapped:
        for period, value, flags in zip(s.periods, s.values, s.flags, strict=True):
            if value is None:
                continue
            where = f"point {s.point.code}, channel {s.code}, period {period.label}"
            payload = {
                "file": file,
                "point": s.point.code,
                "channel": s.code,
                "desc": s.desc,
                "period": period.label,
                "start": period.start_utc.isoformat(),
                "end": period.end_utc.isoformat(),
                "value": str(value),
                "flags": flags,
                **({"attributes": s.attributes[period]} if period in s.attributes else {}),
            }
            rows.append(
                QuarantineRow(
                    SOURCE,
                    Reason.UNKNOWN_CHANNEL,
                    f"{file}: {where}: {s.how}",
                    s.point.code,
                    s.code,
                    json.dumps(payload, ensure_ascii=False).encode(),
                )
            )
    return rows


def _note(report: FileReport, parsed: ParsedFile, resent_of: str | None) -> str | None:
    """What the counts mean where they could surprise: a re-sent number, unknown channels."""
    notes = []
    if resent_of is not None and report.conflicts:
        notes.append(
            f"number {report.number} was already imported from {resent_of} with other values: "
            "a correction must carry a higher number, so the stored values were kept; "
            f"{report.conflicts} values that differ are recorded as conflicts, "
            f"{report.duplicates} equal ones counted as duplicates"
        )
    elif resent_of is not None:
        notes.append(
            f"number {report.number} was already imported from {resent_of}; this file differs "
            f"in its bytes, not in its values ({report.duplicates} duplicates)"
        )
    if parsed.unmapped:
        codes = sorted({s.code or "" for s in parsed.unmapped})
        notes.append(
            f"channels {', '.join(codes)} are not known (see rejected); their "
            f"{parsed.unmapped_count} values are quarantined unknown_channel, the other "
            "channels were imported"
        )
    unread = sum(1 for e in parsed.errors if not isinstance(e, UnknownChannelError))
    unread += parsed.error_count - len(parsed.errors)
    if unread:
        notes.append(
            f"{unread} values or parts could not be read (see rejected): quarantined with "
            "their reasons, the rest of the file imported"
        )
    return "; ".join(notes) or None


def _quarantine_row(file: str, error: AskueError, n: int) -> QuarantineRow:
    """A parser's error as a quarantine row; ``n`` (its place among the file's errors) keeps
    two alike errors (a period sent three times) two rows."""
    where = {**located(error), "n": n}
    channel = CHANNEL_OBIS.get(error.channel or "", error.channel)
    return QuarantineRow(
        SOURCE,
        error.reason,
        f"{file}: {error.detail}",
        error.point,
        channel,
        json.dumps({"file": file, **where}, ensure_ascii=False).encode(),
    )

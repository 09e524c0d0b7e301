"""An 80020 file as the intake sees it: parsed within limits, as columns, with a report.

The import itself (registry of files, corrections, the write) is
:class:`ingest.askue_import.AskueImporter`; the parser's located errors are reported per value.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.askue.errors import AskueError, FileTooLargeError, NotXmlError, ReceiptStatus
from adapters.askue.model import ParsedFile, Period
from adapters.askue.parser import DEFAULT_MAX_ERRORS, parse_bytes
from adapters.askue.reader import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S
from adapters.askue.readings import CHANNEL_OBIS, SOURCE
from core.batch import Columns, to_us
from core.reading import Kind


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
    message_class: str | None = None
    unknown_channel_values: int = 0
    channels_read: list[dict[str, Any]] = field(default_factory=list)
    extended_statuses: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None

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
            "message_class": self.message_class,
            "unknown_channel_values": self.unknown_channel_values,
            "channels_read": self.channels_read,
            "extended_statuses": self.extended_statuses,
            "note": self.note,
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
        if self.conflicts:
            parts.append(f"conflicts {self.conflicts} (stored values kept)")
        if self.unknown_channel_values:
            parts.append(f"{self.unknown_channel_values} values of unknown channels quarantined")
        if self.channels_read:
            parts.append(f"{len(self.channels_read)} channels read by table or description")
        if self.receipt >= ReceiptStatus.REJECTED_UNKNOWN_CHANNELS:
            parts.append(f"receipt: {ReceiptStatus(self.receipt).name.lower()}")
        text = f"{self.file}: number {self.number}, 80021 status {self.receipt}: " + ", ".join(
            parts
        )
        return text + (f". {self.note}" if self.note else "")


def to_columns(parsed: ParsedFile) -> Columns:
    """The file's values as a columnar batch (interval readings; exact decimals to float).

    Periods repeat across the file's points: each is converted to microseconds once.
    """
    cols = Columns()
    spans: dict[Period, tuple[int, int]] = {}
    interval = int(Kind.INTERVAL)
    for series in parsed.series:
        kept = [
            (period, value, flags)
            for period, value, flags in zip(
                series.periods, series.values, series.flags, strict=True
            )
            if value is not None
        ]
        if not kept:
            continue
        for period, _, _ in kept:
            span = spans.get(period)
            if span is None:
                span = spans[period] = (to_us(period.start_utc), to_us(period.end_utc))
            cols.ts.append(span[0])
            cols.end.append(span[1])
        n = len(kept)
        cols.value.extend([float(value) for _, value, _ in kept])
        cols.flags.extend([flags for _, _, flags in kept])
        cols.source.extend([SOURCE] * n)
        cols.meter.extend([series.point.code] * n)
        cols.channel.extend([CHANNEL_OBIS[series.channel]] * n)
        cols.kind.extend([interval] * n)
    return cols


def located(error: AskueError) -> dict[str, Any]:
    """A parser's located error as a report entry."""
    return {
        "error": error.message,
        "reason": error.reason,
        "receipt": int(error.receipt),
        "point": error.point,
        "channel": error.channel,
        "period": error.period,
        "line": error.line,
    }


def channels_read(parsed: ParsedFile) -> list[dict[str, Any]]:
    """The channels read as another code than written (by the table or the description)."""
    return [
        {"point": s.point.code, "code": s.code, "read_as": s.channel, "how": s.how}
        for s in parsed.series
        if s.code is not None and s.code != s.channel
    ]


def extended_statuses(parsed: ParsedFile) -> list[dict[str, Any]]:
    """Values with ``extendedstatus``/``errofmeasuring``/``param1..3``, grouped per point,
    channel and attribute set: the substitute point (``param1``) is kept here, the values are
    flagged measurement_error."""
    groups: dict[tuple[str, str | None, tuple[tuple[str, str], ...]], list[str]] = {}
    for s in (*parsed.series, *parsed.unmapped):
        for period, attrs in s.attributes.items():
            key = (s.point.code, s.code, tuple(sorted(attrs.items())))
            groups.setdefault(key, []).append(period.label)
    return [
        {"point": p, "channel": c, **dict(a), "values": len(periods), "periods": periods}
        for (p, c, a), periods in groups.items()
    ]


def parse_file(
    path: Path,
    *,
    tz: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    channels: Mapping[str, str] | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
) -> tuple[ParsedFile, str]:
    """Parses an 80020 file within the limits: the parsed file and its sha256."""
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotXmlError(name, f"cannot read the file: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise FileTooLargeError(name, f"{size} bytes, larger than the limit of {max_bytes}")
    data = path.read_bytes()
    parsed = parse_bytes(
        data, name, tz=tz, max_bytes=max_bytes, timeout_s=timeout_s,
        max_errors=max_errors, channels=channels,
    )  # fmt: skip
    return parsed, hashlib.sha256(data).hexdigest()

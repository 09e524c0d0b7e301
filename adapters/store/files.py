"""The registry of imported files (``askue_files``): 80020 files and register exports.

An 80020 file is known by (sender INN, day, number, sha256); a higher number for the same
sender and day is a correction that supersedes the earlier files. A register export is known
by its mapping (``registers:<name>`` as the sender) and its bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.store.db import store_errors
from adapters.store.writer import ReadingStore


@dataclass(frozen=True, slots=True)
class KnownFile:
    id: int
    number: int
    sha256: str
    file_name: str


async def files_of_day(store: ReadingStore, sender: str, day: date) -> list[KnownFile]:
    """The files already imported for a sender and day."""
    async with store_errors("file registry"), store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, number, sha256, file_name FROM askue_files"
            " WHERE sender_inn = $1 AND day = $2",
            sender,
            day,
        )
    return [KnownFile(r["id"], r["number"], r["sha256"], r["file_name"]) for r in rows]


async def new_file_id(store: ReadingStore) -> int:
    async with store_errors("file registry"), store.pool.acquire() as conn:
        return int(await conn.fetchval("SELECT nextval('askue_files_id_seq')"))


async def is_imported(store: ReadingStore, sender: str, sha256: str) -> bool:
    """Whether a file with these bytes was imported for this sender."""
    async with store_errors("file registry"), store.pool.acquire() as conn:
        return bool(
            await conn.fetchval(
                "SELECT 1 FROM askue_files WHERE sender_inn = $1 AND sha256 = $2", sender, sha256
            )
        )


@dataclass(frozen=True, slots=True)
class FileRecord:
    id: int | None
    sender: str
    day: date
    number: int
    file_name: str
    sha256: str
    receipt: int


async def record_file(
    store: ReadingStore, f: FileRecord, report: dict[str, Any], *, supersede: bool | None
) -> tuple[list[str], str | None]:
    """Records an imported file with its report.

    ``supersede``: True — the file corrects earlier ones of its sender and day (they are marked
    superseded by it); False — a newer file already corrected it (it is marked superseded by
    the newest); None — no relation (register exports). Returns (names of the files it
    supersedes, name of the file that supersedes it).
    """
    supersedes: list[str] = []
    superseded_by: str | None = None
    async with store_errors("file registry"), store.pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO askue_files (id, sender_inn, day, number, file_name, sha256,"
                " receipt, report) VALUES (coalesce($1, nextval('askue_files_id_seq')), $2, $3,"
                " $4, $5, $6, $7, $8::jsonb) ON CONFLICT (sender_inn, day, number, sha256)"
                " DO NOTHING",
                f.id, f.sender, f.day, f.number, f.file_name, f.sha256, f.receipt,
                json.dumps(report, ensure_ascii=False),
            )  # fmt: skip
            if supersede is True:
                older = await conn.fetch(
                    "UPDATE askue_files SET superseded_by = $1 WHERE sender_inn = $2"
                    " AND day = $3 AND number < $4 AND id <> $1"
                    " AND (superseded_by IS NULL OR superseded_by IN"
                    "  (SELECT id FROM askue_files WHERE number < $4))"
                    " RETURNING file_name",
                    f.id, f.sender, f.day, f.number,
                )  # fmt: skip
                supersedes = sorted(r["file_name"] for r in older)
            elif supersede is False:
                newer = await conn.fetchrow(
                    "SELECT id, file_name FROM askue_files WHERE sender_inn = $1 AND day = $2"
                    " ORDER BY number DESC LIMIT 1",
                    f.sender, f.day,
                )  # fmt: skip
                assert newer is not None
                await conn.execute(
                    "UPDATE askue_files SET superseded_by = $1 WHERE id = $2", newer["id"], f.id
                )
                superseded_by = newer["file_name"]
            if supersede is not None:
                report = {**report, "supersedes": supersedes, "superseded_by": superseded_by}
                await conn.execute(
                    "UPDATE askue_files SET report = $2::jsonb WHERE id = $1",
                    f.id, json.dumps(report, ensure_ascii=False),
                )  # fmt: skip
    return supersedes, superseded_by

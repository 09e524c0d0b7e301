"""Imports a property register file into the store: read through its mapping, keep the good
rows and the bad ones with their file and row (docs/reconcile.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from adapters.property import PropertyMapping, read_property_register
from adapters.store.connections import Connection
from adapters.store.property import save_import

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PropertyImportReport:
    import_id: int
    file: str
    rows: int
    problems: list[str]
    skipped: int


async def import_property_register(
    conn: Connection, path: Path, mapping: PropertyMapping
) -> PropertyImportReport:
    """Reads ``path`` and stores it as the latest register; the file's problems listed."""
    read = read_property_register(path, mapping)
    import_id = await save_import(
        conn, file=read.file, mapping=mapping.name, rows=read.rows, problems=read.problems
    )
    log.info(
        "property register %s: %d rows, %d bad, %d skipped",
        read.file, len(read.rows), len(read.problems), read.skipped,
    )  # fmt: skip
    return PropertyImportReport(
        import_id, read.file, len(read.rows), [d for _, d in read.problems], read.skipped
    )

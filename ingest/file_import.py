"""Any ASKUE export through one :class:`Intake`: 80020 XML, or CSV/XLSX register exports.

The mapping of a register export is the one named (``--mapping``) or the one its header fits
among the shipped mappings and those in ``$UCHET_HOME/mappings``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from adapters.askue.importer import FileReport
from adapters.askue.reader import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S
from adapters.registers.dispatch import route
from adapters.registers.errors import RegisterFileError
from adapters.registers.importer import RegisterReport
from adapters.registers.mapping import Mapping
from adapters.store import ReadingStore
from core.config import Settings
from ingest.askue_import import AskueImporter
from ingest.intake import Intake
from ingest.register_import import RegisterImporter


class FileImporter:
    """Imports files through one intake (one validator state for all of them)."""

    def __init__(
        self,
        intake: Intake,
        *,
        tz: str = "Europe/Moscow",
        home: Path | None = None,
        mapping: Mapping | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.intake = intake
        self.askue = AskueImporter(
            intake, tz=tz, max_bytes=max_bytes, timeout_s=timeout_s, home=home
        )
        self.registers = RegisterImporter(intake, tz=tz, max_bytes=max_bytes)
        self.home = home
        self.mapping = mapping

    async def import_file(
        self,
        path: Path,
        *,
        on_stage: Callable[[str], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> FileReport | RegisterReport:
        """Imports one file; ``on_stage(text)`` is told each step (reading, checking,
        writing) as it starts, for a progress bar's note; ``on_progress(done, total)`` the
        bytes of a register export done while it is read and written."""
        path = Path(path)
        try:
            # reads the head of the file (a workbook: unzips it): not on the event loop
            mapping = await asyncio.to_thread(route, path, mapping=self.mapping, home=self.home)
        except RegisterFileError as exc:
            # a broken mapping file (ConfigError) is not the file's fault: it propagates
            return RegisterReport(file=path.name, status="failed", error=str(exc))
        if mapping is None:
            return await self.askue.import_file(path, on_stage=on_stage)
        return await self.registers.import_file(
            path, mapping, on_stage=on_stage, on_progress=on_progress
        )

    async def import_files(self, paths: list[Path]) -> list[FileReport | RegisterReport]:
        """Imports each file; a bad file is reported and the next one is imported."""
        return [await self.import_file(Path(p)) for p in paths]


async def import_files(
    store: ReadingStore, paths: list[Path], *, timezone: str, settings: Settings
) -> list[FileReport | RegisterReport]:
    """Imports uploaded files through an intake built from the settings (no retries: the
    caller answers a store outage)."""
    s = settings
    intake = Intake.from_settings(store, s, retry=False)
    importer = FileImporter(
        intake, tz=timezone, home=s.home, max_bytes=s.askue_max_bytes, timeout_s=s.askue_timeout_s
    )
    return await importer.import_files(paths)

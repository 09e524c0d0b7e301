"""The inbox folder the gateway watches: ``$UCHET_HOME/inbox/askue/``.

Each file dropped there (``*.xml`` 80020 files, ``*.csv``/``*.tsv``/``*.xlsx`` register
exports read through the mapping their header fits, see ``docs/register-imports.md``; a file
still being written — modified in the last two seconds — waits for the next look) is imported
and moved to ``done/`` or ``failed/`` with its report beside it as ``<name>.report.json``. A
file goes to ``failed/`` when nothing in it could be imported (not XML, too large, a forbidden
DTD, a broken header; no mapping fits, a mapped column missing). One bad file never stops the
others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import time
from pathlib import Path

from adapters.askue.importer import FileReport
from adapters.registers.dispatch import REGISTER_SUFFIXES
from adapters.registers.importer import RegisterReport
from core.errors import UchetError
from ingest.file_import import FileImporter

log = logging.getLogger(__name__)
SETTLE_S = 2.0
SUFFIXES = frozenset({".xml"}) | REGISTER_SUFFIXES


def inbox_dirs(home: Path) -> tuple[Path, Path, Path]:
    inbox = home / "inbox" / "askue"
    done, failed = inbox / "done", inbox / "failed"
    for d in (inbox, done, failed):
        d.mkdir(parents=True, exist_ok=True)
    return inbox, done, failed


def _move(path: Path, folder: Path) -> Path:
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{time.strftime('%Y%m%dT%H%M%S')}{path.suffix}"
    shutil.move(str(path), target)
    return target


async def sweep(
    dispatcher: FileImporter, home: Path, *, settle_s: float = SETTLE_S
) -> list[FileReport | RegisterReport]:
    """Imports every settled file in the inbox once; returns their reports."""
    inbox, done, failed = inbox_dirs(home)
    now = time.time()
    reports: list[FileReport | RegisterReport] = []
    for path in sorted(p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES):
        try:
            if now - path.stat().st_mtime < settle_s:
                continue
        except FileNotFoundError:
            continue
        try:
            report = await dispatcher.import_file(path)
        except UchetError as exc:  # a store outage: leave the file for the next sweep
            log.warning("inbox: %s not imported this time: %s", path.name, exc)
            continue
        target = _move(path, failed if report.status == "failed" else done)
        target.with_name(target.name + ".report.json").write_text(
            json.dumps(report.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        log.info("inbox: %s", report.summary())
        reports.append(report)
    return reports


async def watch_inbox(
    dispatcher: FileImporter, home: Path, *, interval_s: float, stop: asyncio.Event
) -> None:
    """Sweeps the inbox every ``interval_s`` until ``stop``."""
    while not stop.is_set():
        await sweep(dispatcher, home)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)

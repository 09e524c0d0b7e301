"""The property register use cases: import a file (read through its mapping, keep the good rows
and the bad ones with their file and row), build the report over the latest import, open an
account from a register row (docs/reconcile.md)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from adapters.property import PropertyMapping, read_property_register
from adapters.store.connections import Connection
from adapters.store.property import (
    Opened,
    account_premises,
    decisions,
    house_rates,
    import_problems,
    latest_import,
    open_account,
    opened,
    register_row,
    register_rows,
    save_import,
)
from core.errors import ConfigError
from core.reconcile import Report, reconcile
from core.reconcile.opening import premise_from_row
from core.reconcile.report import ReconcileOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PropertyImportReport:
    import_id: int
    file: str
    rows: int
    problems: list[str]
    skipped: int


async def import_property_register(
    conn: Connection,
    path: Path,
    mapping: PropertyMapping,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> PropertyImportReport:
    """Reads ``path`` and stores it as the latest register; the file's problems listed.
    ``on_progress(done, 100)``: percent of the file read (the last one once it is stored)."""
    tell = None if on_progress is None else (lambda f: on_progress(min(int(f * 99), 99), 100))
    read = read_property_register(path, mapping, on_fraction=tell)
    import_id = await save_import(
        conn, file=read.file, mapping=mapping.name, rows=read.rows, problems=read.problems
    )
    if on_progress is not None:
        on_progress(100, 100)
    log.info(
        "property register %s: %d rows, %d bad, %d skipped",
        read.file, len(read.rows), len(read.problems), read.skipped,
    )  # fmt: skip
    return PropertyImportReport(
        import_id, read.file, len(read.rows), [d for _, d in read.problems], read.skipped
    )


@dataclass(frozen=True, slots=True)
class BuiltReport:
    report: Report
    import_id: int
    file: str
    problems: list[str]
    times: dict[str, float]  # load, reconcile (s)


REPORT_STEPS = 3
"""Steps ``build_report`` tells ``on_progress`` of: the register read, the accounts, the report."""


async def build_report(
    conn: Connection,
    *,
    options: ReconcileOptions,
    on: date,
    on_progress: Callable[[int, int], None] | None = None,
) -> BuiltReport:
    """The report over the latest register (ConfigError when none is imported)."""
    step = on_progress or (lambda done, total: None)
    t0 = time.perf_counter()
    info = await latest_import(conn)
    if info is None:
        raise ConfigError("no property register imported: run uchet reconcile import FILE")
    rows = await register_rows(conn, info.id, info.file)
    step(1, REPORT_STEPS)
    premises = await account_premises(conn)
    rates = await house_rates(conn, on)
    confirmed, checked = await decisions(conn)
    problems = await import_problems(conn, info.id)
    step(2, REPORT_STEPS)
    t1 = time.perf_counter()
    report = await asyncio.to_thread(
        reconcile, rows, premises, rates, options=options, confirmed=confirmed, checked=checked
    )
    t2 = time.perf_counter()
    step(3, REPORT_STEPS)
    times = {"load": t1 - t0, "reconcile": t2 - t1}
    return BuiltReport(report, info.id, info.file, problems, times)


class NotUnbilled(ConfigError):
    """The key names no unbilled register row of the latest report with an account house."""


async def open_from_register(
    conn: Connection,
    built: BuiltReport,
    key: str,
    *,
    decided_by: str,
    account: str | None = None,
    note: str = "",
) -> Opened:
    """Opens an account for the unbilled register row ``key`` (see
    :func:`core.reconcile.opening.premise_from_row`); idempotent per row key. Raises
    :class:`NotUnbilled`, ConfigError (no area, a bad account number) or PremiseTaken."""
    done = await opened(conn, key)
    if done is not None:
        return done
    finding = next(
        (f for f in built.report.findings if f.kind == "unbilled" and f.key == key), None
    )
    if finding is None or finding.house_id is None:
        raise NotUnbilled(
            f"{key}: нет строки реестра без лицевого счёта (в доме учёта) с таким ключом"
        )
    row = await register_row(conn, built.import_id, finding.line, built.file)
    if row is None:
        raise NotUnbilled(f"{key}: строки реестра больше нет (загружен новый реестр?)")
    premise = premise_from_row(row, finding.house_id, account)
    done = await open_account(
        conn, key=key, premise=premise, import_id=built.import_id, line=row.line,
        decided_by=decided_by, note=note,
    )  # fmt: skip
    log.info("reconcile: %s opened premise %s (account %s)", key, done.premise_id, done.account)
    return done

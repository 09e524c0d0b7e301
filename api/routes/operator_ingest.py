"""Operators' view of ingestion: counters, anomalies of the batch VEE, 80020 file uploads."""

from __future__ import annotations

import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, Field

from adapters.vee_store import list_anomalies
from api.deps import PERIOD, OperatorDep, ServicesDep, ViewerDep, connection
from api.problems import ProblemError, responses
from ingest.file_import import import_files

router = APIRouter(prefix="/v1/operator", tags=["operators"])


class OfflineDevice(BaseModel):
    source: str
    device: str
    bus: str
    since: str
    last_error: str | None


class Stats(BaseModel):
    readings: int
    quarantined: dict[str, int] = Field(description="waiting in quarantine, by reason")
    duplicates: int
    conflicts: int
    meters: int
    unbound_meters: int
    devices: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="polled devices by source and state (online/offline)"
    )
    offline_devices: list[OfflineDevice] = Field(default_factory=list)


@router.get("/stats", response_model=Stats, responses=responses(401, 403))
async def stats(_: ViewerDep, services: ServicesDep) -> Stats:
    """Ingestion counters (``uchet stats --json``)."""
    return Stats(**await services.store.stats())  # type: ignore[arg-type]


class Anomaly(BaseModel):
    id: int
    period: str
    type: str
    severity: str
    service: str
    house: str | None
    meter: str | None = Field(description="source:serial:channel")
    start: str
    end: str
    evidence: dict[str, Any] | list[Any] | None


@router.get("/anomalies", response_model=list[Anomaly], responses=responses(401, 403, 422))
async def anomalies(
    _: ViewerDep,
    services: ServicesDep,
    period: Annotated[str | None, Query(pattern=PERIOD)] = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    house: Annotated[str | None, Query(max_length=200)] = None,
    meter: Annotated[str | None, Query(max_length=200, description="serial")] = None,
    severity: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[Anomaly]:
    """Anomalies found by the batch VEE runs, newest period first."""
    async with connection(services, "list anomalies") as conn:
        rows = await list_anomalies(
            conn, period=period, type=type, house=house, meter=meter, severity=severity,
            limit=limit,
        )  # fmt: skip
    return [Anomaly(**row) for row in rows]  # type: ignore[arg-type]


class FileReportOut(BaseModel):
    file: str
    report: dict[str, Any] = Field(description="the importer's report of the file")


@router.post("/askue", response_model=list[FileReportOut], responses=responses(401, 403, 413, 422))
async def upload_askue(
    files: Annotated[list[UploadFile], File(description="80020 XML files")],
    _: OperatorDep,
    services: ServicesDep,
) -> list[FileReportOut]:
    """Imports uploaded 80020 files into the store; a bad file is reported (80021 status,
    reason), the others are imported. Idempotent: a file uploaded twice changes nothing."""
    if not files:
        raise ProblemError(422, "validation-error", "no files")
    names = [upload_name(upload.filename, i) for i, upload in enumerate(files)]
    with tempfile.TemporaryDirectory(prefix="uchet-askue-") as tmp:
        paths = []
        for i, upload in enumerate(files):
            # One folder per file: equal names do not collide, and the name on disk is one
            # the file system takes (a 300-character name once gave 500).
            folder = FsPath(tmp) / f"{i:04d}"
            folder.mkdir()
            path = folder / disk_name(names[i])
            path.write_bytes(await upload.read())
            paths.append(path)
        reports = await import_files(
            services.store, paths, timezone=services.settings.timezone, settings=services.settings
        )
    by_disk = {p.name: n for p, n in zip(paths, names, strict=True)}
    out = []
    for r in reports:
        name = by_disk.get(r.file, r.file)
        report = _jsonable(r.as_dict())
        if isinstance(report, dict) and "file" in report:
            report["file"] = name
        out.append(FileReportOut(file=name, report=report))
    return out


MAX_NAME_BYTES = 200
"""Longest file name written to disk (most file systems take 255 bytes)."""


def upload_name(given: str | None, i: int) -> str:
    """The name an upload is reported under: its base name, control characters shown as
    ``_``, at most 1000 characters; ``file<i>.xml`` when it has none."""
    base = (given or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join("_" if ord(c) < 32 or c == "\x7f" else c for c in base)[:1000]
    return base if base not in ("", ".", "..") else f"file{i}.xml"


def disk_name(name: str) -> str:
    """``name`` cut to ``MAX_NAME_BYTES`` of UTF-8, keeping its extension."""
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    ext = (dot + ext) if stem and len(ext) <= 10 else ""
    room = MAX_NAME_BYTES - len(ext.encode())
    cut = (stem if ext else name).encode()[:room].decode(errors="ignore")
    return cut + ext


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)

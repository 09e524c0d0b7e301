"""The column mapping of a register export (CSV or XLSX): which column holds what, per source.

A mapping is a JSON file (``docs/register-imports.md``); shipped ones live in
``adapters/registers/mappings/``, a site's own in ``$UCHET_HOME/mappings/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import time
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.channels import normalize_channel
from core.errors import ConfigError, PayloadError

SHIPPED = Path(__file__).resolve().parent / "mappings"

ColumnRef = Annotated[int, Field(ge=1)] | Annotated[str, Field(min_length=1)]
"""A column: its 1-based position, or its name in the header row (case and spaces ignored)."""

UNIT_NAMES = {
    "м3": "m3",
    "м³": "m3",
    "куб.м": "m3",
    "куб. м": "m3",
    "м.куб.": "m3",
    "л": "l",
    "квт*ч": "kWh",
    "квт.ч": "kWh",
    "квтч": "kWh",
    "квт·ч": "kWh",
    "вт*ч": "Wh",
    "мвт*ч": "MWh",
    "гкал": "Gcal",
    "гдж": "GJ",
    "квт": "kW",
    "вт": "W",
    "мвт": "MW",
    "квар": "kvar",
    "ква": "kVA",
    "квар*ч": "kvarh",
    "квар.ч": "kvarh",
    "ква*ч": "kVAh",
}
"""Russian unit spellings of exports (case-folded) -> the units ``core.channels`` converts."""

DEFAULT_DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")


def header_key(text: str) -> str:
    """How header names are compared: case-folded, ё as е, runs of spaces as one."""
    return " ".join(text.replace("ё", "е").replace("Ё", "Е").split()).casefold()


def _channel(text: str) -> str:
    try:
        return normalize_channel(text)
    except PayloadError as exc:
        raise ValueError(exc.detail) from None


class ValueColumn(BaseModel):
    """One value column: a register of the meter (a tariff zone, or the only register)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: ColumnRef
    channel: str | None = Field(
        default=None,
        description="service or OBIS code; None: the row's service column decides",
    )
    unit: str | None = Field(default=None, description="unit of this column; None: see Mapping")

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, v: str | None) -> str | None:
        return None if v is None else _channel(v)


class TableLayout(BaseModel):
    """How a CSV/XLSX table is laid out: what register exports and property registers share."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    format: Literal["csv", "xlsx", "any"] = Field(
        default="any",
        description="csv, xlsx, or any (the same table saved either way; told by content)",
    )
    # csv
    encoding: Literal["auto", "utf-8", "windows-1251"] = "auto"
    delimiter: str = Field(default="auto", description='"auto" or one character ("\\t": tab)')
    # both
    decimal: Literal["auto", ",", "."] = "auto"
    header: bool = True
    skip_rows: int = Field(default=0, ge=0, description="rows before the header (or the data)")
    skip_if: list[str] = Field(
        default_factory=list, description="regexes: a row with a cell matching one is skipped"
    )
    sheet: str | int | None = Field(default=None, description="xlsx: name or 1-based index")

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str) -> str:
        if v != "auto" and len(v) != 1:
            raise ValueError(f"delimiter must be 'auto' or one character, not {v!r}")
        return v

    @field_validator("skip_if")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        for pattern in v:
            re.compile(pattern)
        return v


L = TypeVar("L", bound=TableLayout)


class Mapping(TableLayout):
    """How to read one layout of register export."""

    source: str = Field(default="askue_csv", pattern=r"^[a-z0-9_]+$")
    format: Literal["csv", "xlsx", "any"] = Field(
        description="csv, xlsx, or any (the same table saved either way; told by content)"
    )
    detect: str | None = Field(
        default=None, description="regex found in the file's first lines: picks this mapping"
    )
    # columns
    meter: ColumnRef | None = Field(default=None, description="column of the meter serial")
    meter_from_name: str | None = Field(
        default=None,
        description="regex searched in the file name (without its suffix): the meter serial is"
        " its first group (or the whole match), for exports that keep it only there",
    )
    meter_label: str | None = Field(
        default=None,
        description="workbooks: the meter serial is the first non-empty cell right of the"
        " cell holding this text (a title block: 'Номер договора | 531a68_1')",
    )
    meter_sheet: str | int | None = Field(
        default=None, description="the sheet meter_label is found on (default: the first)"
    )
    kind: Literal["register", "interval"] = Field(
        default="register",
        description="register: meter readings (показания); interval: the quantity of each"
        " interval (a load profile)",
    )
    interval_minutes: int | None = Field(default=None, ge=1, le=1440)
    time_is: Literal["start", "end"] = Field(
        default="start", description="interval: the row's time is the interval's start or end"
    )
    account: ColumnRef | None = None
    premise: ColumnRef | None = None
    date: ColumnRef
    date_format: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS))
    time: ColumnRef | None = None
    time_format: str = "%H:%M"
    time_of_day: str = Field(
        default="00:00", description="local time of a reading whose date has no time"
    )
    timezone: str | None = Field(default=None, description="None: UCHET_TIMEZONE")
    service: ColumnRef | None = Field(
        default=None, description="column naming the service of the row (ХВС, ГВС, ...)"
    )
    services: dict[str, str] = Field(
        default_factory=dict, description="service column text -> channel"
    )
    unit: ColumnRef | None = Field(default=None, description="column holding the unit")
    default_unit: str | None = Field(
        default=None, description="unit when neither the value nor a unit column says"
    )
    units: dict[str, str] = Field(
        default_factory=dict, description="unit text of the file -> unit (added to UNIT_NAMES)"
    )
    values: list[ValueColumn] = Field(min_length=1)

    @field_validator("meter_from_name")
    @classmethod
    def _name_regex(cls, v: str | None) -> str | None:
        if v is not None:
            re.compile(v)
        return v

    @field_validator("time_of_day")
    @classmethod
    def _time_of_day(cls, v: str) -> str:
        time.fromisoformat(v)
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @field_validator("units")
    @classmethod
    def _units(cls, v: dict[str, str]) -> dict[str, str]:
        return {k.strip().casefold(): u for k, u in v.items()}

    @field_validator("services")
    @classmethod
    def _services(cls, v: dict[str, str]) -> dict[str, str]:
        return {header_key(k): _channel(c) for k, c in v.items()}

    @model_validator(mode="after")
    def _consistent(self) -> Mapping:
        given = [self.meter, self.meter_from_name, self.meter_label]
        if sum(g is not None for g in given) != 1:
            raise ValueError(
                "give the meter one way: a column ('meter'), 'meter_from_name' or 'meter_label'"
            )
        if self.meter_label is not None and self.format == "csv":
            raise ValueError("'meter_label' is for workbooks (format xlsx or any)")
        if (self.kind == "interval") != (self.interval_minutes is not None):
            raise ValueError("'interval_minutes' is for, and needed by, kind 'interval'")
        if any(v.channel is None for v in self.values) and self.service is None:
            raise ValueError("a value column without a channel needs a 'service' column")
        if self.service is not None and not self.services:
            raise ValueError("a 'service' column needs 'services' (column text -> channel)")
        if not self.header and any(isinstance(c, str) for c in self.columns().values()):
            raise ValueError("without a header row, columns must be given by position (1, 2...)")
        if self.format == "xlsx" and (self.encoding != "auto" or self.delimiter != "auto"):
            raise ValueError("encoding and delimiter are for csv, not xlsx")
        return self

    def columns(self) -> dict[str, ColumnRef]:
        """Every column the mapping reads, by role (``value:<n>`` for value columns)."""
        roles: dict[str, ColumnRef | None] = {
            "meter": self.meter,
            "account": self.account,
            "premise": self.premise,
            "date": self.date,
            "time": self.time,
            "service": self.service,
            "unit": self.unit,
        }
        roles.update({f"value:{i}": v.column for i, v in enumerate(self.values)})
        return {k: c for k, c in roles.items() if c is not None}

    def unit_name(self, text: str) -> str:
        """The unit a file's unit text means (the mapping's ``units``, then UNIT_NAMES)."""
        key = text.strip().casefold()
        return self.units.get(key) or UNIT_NAMES.get(key) or text

    def named_columns(self) -> set[str]:
        return {header_key(c) for c in self.columns().values() if isinstance(c, str)}


def load_mapping_file(path: Path) -> Mapping:
    """A mapping from its JSON file; ConfigError naming the file and the field otherwise."""
    return load_layout(path, Mapping)


def load_layout(path: Path, kind: type[L]) -> L:
    """A table layout of ``kind`` from its JSON file; ConfigError naming the file and the
    field otherwise (register exports and property registers alike)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"mapping {path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"mapping {path}: not UTF-8 JSON: {exc}") from None
    try:
        return kind.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"mapping {path}: {problems}") from None


def mapping_dirs(home: Path | None) -> list[Path]:
    """Where mappings are looked for: the shipped ones, then the site's (which win by name)."""
    dirs = [SHIPPED]
    if home is not None:
        dirs.append(home / "mappings")
    return dirs


def available_mappings(dirs: Iterable[Path]) -> dict[str, Mapping]:
    """Every mapping in ``dirs`` by name; a later folder's mapping replaces an earlier one."""
    found: dict[str, Mapping] = {}
    for folder in dirs:
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                mapping = load_mapping_file(path)
                found[mapping.name] = mapping
    return found


def find_mapping(name_or_path: str, dirs: Iterable[Path]) -> Mapping:
    """``--mapping``: a JSON file, or the name of a shipped or site mapping."""
    path = Path(name_or_path)
    if path.suffix == ".json" or path.is_file():
        return load_mapping_file(path)
    known = available_mappings(dirs)
    if name_or_path not in known:
        raise ConfigError(
            f"no mapping named {name_or_path!r}; known: {', '.join(sorted(known)) or 'none'}"
        )
    return known[name_or_path]

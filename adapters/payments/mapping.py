"""The column mapping of a bank payment register: which column holds what, per bank.

A mapping is a JSON file; the shipped ones (``sberbank``, ``csv``) live in
``adapters/payments/mappings/``, a site's own in ``$UCHET_HOME/mappings/payments/``.
Columns are 1-based positions or header names (when the register has a header row).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError

SHIPPED = Path(__file__).resolve().parent / "mappings"

ColumnRef = Annotated[int, Field(ge=1)] | Annotated[str, Field(min_length=1)]


class Columns(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: list[ColumnRef] = Field(min_length=1)  # joined with "/" into the payment id
    date: ColumnRef
    account: ColumnRef
    amount: ColumnRef
    period: ColumnRef | None = None
    to: ColumnRef | None = None


class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(ge=1)
    amount: int = Field(ge=1)


class PaymentMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    delimiter: str = Field(min_length=1, max_length=1)
    encoding: str = "auto"  # "auto": UTF-8 (with or without BOM), else cp1251
    header: bool = False
    id_prefix: str = ""
    columns: Columns
    date_formats: list[str] = Field(default_factory=lambda: ["%Y-%m-%d", "%d.%m.%Y"])
    summary_prefix: str | None = None  # a line starting with it is the register's totals
    summary: Summary | None = None


def load_mapping(name_or_path: str, home: Path | None = None) -> PaymentMapping:
    """A mapping by shipped name, by name under ``home/mappings/payments``, or by file path."""
    candidates = [Path(name_or_path)]
    if home is not None:
        candidates.append(home / "mappings" / "payments" / f"{name_or_path}.json")
    candidates.append(SHIPPED / f"{name_or_path}.json")
    for path in candidates:
        if path.suffix == ".json" and path.is_file():
            try:
                return PaymentMapping.model_validate(json.loads(path.read_text("utf-8")))
            except (OSError, ValueError, ValidationError) as exc:
                raise ConfigError(f"payment mapping {path}: {exc}") from exc
    shipped = sorted(p.stem for p in SHIPPED.glob("*.json"))
    raise ConfigError(f"payment mapping {name_or_path!r}: not found (shipped: {shipped})")

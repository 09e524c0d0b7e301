"""The column mapping of a property register: which column holds the cadastral number, the
address, the premise number, area, purpose, owners and residents.

A mapping is a JSON file; shipped ones are in ``adapters/property/mappings/``, a site's own in
``$UCHET_HOME/property-mappings/`` (they win by name). Columns are 1-based positions or header
names (case, ё and runs of spaces ignored, as for register exports).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from adapters.registers.mapping import ColumnRef, TableLayout, header_key, load_layout
from core.errors import ConfigError

SHIPPED = Path(__file__).resolve().parent / "mappings"

DEFAULT_PURPOSES = {
    "жилое": True,
    "жилое помещение": True,
    "квартира": True,
    "комната": True,
    "жилой дом": True,
    "нежилое": False,
    "нежилое помещение": False,
    "нежилое здание": False,
    "офис": False,
    "магазин": False,
}
"""Purpose texts (case-folded) -> residential; a mapping's ``purposes`` add to them."""


class PropertyMapping(TableLayout):
    """How to read one layout of property register (the table layout of register exports)."""

    address: ColumnRef
    premise: ColumnRef | None = None
    cadastral: ColumnRef | None = None
    fias: ColumnRef | None = None
    area: ColumnRef | None = None
    purpose: ColumnRef | None = None
    owners: ColumnRef | None = Field(default=None, description="a count of owners")
    owner_names: ColumnRef | None = Field(
        default=None, description="names, separated by ; or , or new lines: counted as owners"
    )
    residents: ColumnRef | None = None
    purposes: dict[str, bool] = Field(default_factory=dict)
    optional: list[
        Literal[
            "premise", "cadastral", "fias", "area", "purpose", "owners", "owner_names", "residents"
        ]
    ] = Field(default_factory=list, description="roles whose column a file may lack")

    @field_validator("purposes")
    @classmethod
    def _purposes(cls, v: dict[str, bool]) -> dict[str, bool]:
        return {header_key(k): r for k, r in v.items()}

    @model_validator(mode="after")
    def _consistent(self) -> PropertyMapping:
        if not self.header and any(isinstance(c, str) for c in self.columns().values()):
            raise ValueError("without a header row, columns must be given by position (1, 2...)")
        return self

    def columns(self) -> dict[str, ColumnRef]:
        roles = {
            "address": self.address,
            "premise": self.premise,
            "cadastral": self.cadastral,
            "fias": self.fias,
            "area": self.area,
            "purpose": self.purpose,
            "owners": self.owners,
            "owner_names": self.owner_names,
            "residents": self.residents,
        }
        return {k: c for k, c in roles.items() if c is not None}

    def residential(self, text: str) -> bool | None:
        key = header_key(text)
        if key in self.purposes:
            return self.purposes[key]
        return DEFAULT_PURPOSES.get(key)


def load_property_mapping(path: Path) -> PropertyMapping:
    return load_layout(path, PropertyMapping)


def property_mappings(home: Path | None) -> dict[str, PropertyMapping]:
    """The shipped mappings, then the site's (``$UCHET_HOME/property-mappings``), by name."""
    found: dict[str, PropertyMapping] = {}
    for folder in (SHIPPED, home / "property-mappings" if home else None):
        if folder is not None and folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                m = load_property_mapping(path)
                found[m.name] = m
    return found


def find_property_mapping(name_or_path: str, home: Path | None) -> PropertyMapping:
    path = Path(name_or_path)
    if path.suffix == ".json" or path.is_file():
        return load_property_mapping(path)
    known = property_mappings(home)
    if name_or_path not in known:
        raise ConfigError(
            f"no property mapping named {name_or_path!r}; known: {', '.join(sorted(known))}"
        )
    return known[name_or_path]

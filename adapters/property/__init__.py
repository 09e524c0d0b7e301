"""Property registers (реестр помещений): ЕГРН extracts and municipal or ГАР-based lists of
premises, read from CSV/XLSX through a column mapping (docs/reconcile.md)."""

from adapters.property.mapping import PropertyMapping, find_property_mapping, property_mappings
from adapters.property.reader import RegisterFile, read_property_register

__all__ = [
    "PropertyMapping",
    "RegisterFile",
    "find_property_mapping",
    "property_mappings",
    "read_property_register",
]

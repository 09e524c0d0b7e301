"""Register exports (показания): CSV/XLSX files of meter readings read through a column mapping.

ASKUE servers of residential metering and meter-reading contractors hand over monthly
register readings as spreadsheets; a mapping per layout says which column is what
(``docs/register-imports.md``).
"""

from adapters.registers.errors import RegisterFileError
from adapters.registers.importer import RegisterReport
from adapters.registers.mapping import Mapping, available_mappings, find_mapping, mapping_dirs

__all__ = [
    "Mapping",
    "RegisterFileError",
    "RegisterReport",
    "available_mappings",
    "find_mapping",
    "mapping_dirs",
]

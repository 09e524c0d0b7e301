"""Text cells of CSV/XLSX exports that a spreadsheet will not run as formulas.

A cell that starts with ``= + - @`` (or a tab / carriage return) is a formula to Excel and
LibreOffice (CSV injection, OWASP). Exports of data that came from outside (addresses from a
register, account numbers from a bank file) pass their text through :func:`safe_text`, which
prefixes such a value with an apostrophe, the spreadsheet convention for "this is text".
Numbers are written as numbers and are not touched.
"""

from __future__ import annotations

from typing import TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

T = TypeVar("T")


def safe_text(value: str) -> str:
    """``value``, prefixed with ``'`` when a spreadsheet would take it for a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def safe_cell(value: T) -> T | str:
    """:func:`safe_text` for text; any other value (numbers, dates, None) as it is."""
    return safe_text(value) if isinstance(value, str) else value


__all__ = ["FORMULA_STARTS", "safe_cell", "safe_text"]

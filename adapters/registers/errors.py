"""Errors that stop a whole register file (bad rows are quarantined, not raised)."""

from __future__ import annotations

from core.errors import SourceError


class RegisterFileError(SourceError):
    """Nothing in the file can be imported: unreadable, wrong layout, a mapped column missing.

    ``file`` names the file; ``line`` the row where the problem was found, when there is one.
    """

    def __init__(self, file: str, detail: str, *, line: int | None = None) -> None:
        where = f"{file}, row {line}" if line is not None else file
        super().__init__(f"{where}: {detail}")
        self.file = file
        self.detail = detail
        self.line = line

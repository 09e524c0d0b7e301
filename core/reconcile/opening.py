"""The premise an operator opens from a register row (a contract by public offer): the register's
area, purpose and people, in the account house the row's address fits (pure)."""

from __future__ import annotations

import re

from core.addresses import normalize_flat, split_flat
from core.errors import ConfigError
from core.reconcile.model import AccountPremise, RegisterRow

_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


def row_flat(row: RegisterRow) -> str:
    """The row's flat number as matching reads it ("" when the register gives none)."""
    if row.premise:
        return normalize_flat(row.premise)
    return split_flat(row.address)[1]


def premise_from_row(row: RegisterRow, house_id: str, account: str | None = None) -> AccountPremise:
    """The premise to add: id ``<house>-<flat>`` (the flat number ends the id, as matching
    expects), or ``<house>-line<N>-nonum`` for a row without a flat number (no number at
    the end: it never takes another row's flat); the account number given, or the id."""
    if row.area is None:
        raise ConfigError(f"{row.where}: в реестре нет площади помещения, без неё счёт не открыть")
    flat = row_flat(row)
    premise_id = f"{house_id}-{flat}" if flat else f"{house_id}-line{row.line}-nonum"
    account = (account or "").strip() or premise_id
    if not _ID.match(account):
        raise ConfigError(f"лицевой счёт {account!r}: от 1 до 200 символов, без управляющих")
    return AccountPremise(
        premise_id,
        house_id,
        "",
        account,
        row.area,
        row.residential if row.residential is not None else True,
        row.residents or 0,
        row.owners or 0,
    )

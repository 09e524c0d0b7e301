"""Who a document of an account is for (the ЕПД's payer, a claim letter's addressee), from the
store's account details: one wording of the name and the address, the area as written (50, not
50.00)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from adapters.payments.epd import Payer


def plain(value: Decimal) -> str:
    """A number without trailing zeros: ``50.00`` → ``50``, ``54.30`` → ``54.3``."""
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def payer_of(row: Mapping[str, Any], *, addressee: bool) -> Payer:
    """The payer of an ``account_details`` row (key, premise_id, house_id, address, area,
    residents); ``addressee``: the name as a letter is addressed (Кому: Собственнику …), else
    as the ЕПД names the payer (Плательщик: Собственник …)."""
    whom = "Собственнику (нанимателю)" if addressee else "Собственник (наниматель)"
    premise = row["premise_id"]
    return Payer(
        account=row["key"],
        name=f"{whom} помещения {premise}",
        address=f"{row['address'] or row['house_id']}, помещение {premise}",
        area=plain(Decimal(row["area"])),
        residents=row["residents"],
    )

"""The payment QR payload of ГОСТ Р 56042-2014: ``ST00012|Name=…|PersonalAcc=…|…``.

``ST0001`` is the format, ``2`` the encoding (UTF-8); fields are ``key=value`` joined with
``|``. A value may not contain ``|``; the mandatory fields are checked for their form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.ledger.dates import period_name
from core.ledger.errors import LedgerError

HEADER = "ST00012"
_DIGITS = {"PersonalAcc": 20, "BIC": 9, "CorrespAcc": 20}
_MAX = {"Name": 160, "BankName": 45, "Purpose": 210}


@dataclass(frozen=True, slots=True)
class Payee:
    name: str
    inn: str
    kpp: str
    account: str  # расчётный счёт, 20 digits
    bank: str
    bic: str
    corr_account: str


def _check(key: str, value: str) -> str:
    if "|" in value or "\n" in value:
        raise LedgerError(f"payment QR: {key} {value!r} contains '|' or a line break")
    if key in _DIGITS and not re.fullmatch(rf"\d{{{_DIGITS[key]}}}", value):
        raise LedgerError(f"payment QR: {key} {value!r} is not {_DIGITS[key]} digits")
    if key == "PayeeINN" and not re.fullmatch(r"\d{10}|\d{12}", value):
        raise LedgerError(f"payment QR: PayeeINN {value!r} is not 10 or 12 digits")
    if key in _MAX and not 0 < len(value) <= _MAX[key]:
        raise LedgerError(f"payment QR: {key} is empty or longer than {_MAX[key]} characters")
    return value


def payment_qr(payee: Payee, *, kopecks: int, account: str, period: int, purpose: str) -> str:
    """The payload for paying ``kopecks`` for ``account``'s ``period`` (month index)."""
    name = period_name(period)
    fields = [
        ("Name", payee.name),
        ("PersonalAcc", payee.account),
        ("BankName", payee.bank),
        ("BIC", payee.bic),
        ("CorrespAcc", payee.corr_account),
        ("PayeeINN", payee.inn),
        ("KPP", payee.kpp),
        ("Sum", str(max(kopecks, 0))),
        ("Purpose", purpose),
        ("PersAcc", account),
        ("PaymPeriod", f"{name[5:7]}{name[:4]}"),
    ]
    return "|".join([HEADER, *(f"{k}={_check(k, v)}" for k, v in fields if v)])


def parse_payment_qr(text: str) -> dict[str, str]:
    """The fields of a payload (for tests and for checking a scanned code)."""
    head, *rest = text.split("|")
    if head != HEADER:
        raise LedgerError(f"payment QR: header {head!r} is not {HEADER}")
    return dict(item.split("=", 1) for item in rest)

"""The ledger's error: a case, a payment or a register that cannot be settled."""

from __future__ import annotations

from core.errors import UchetError


class LedgerError(UchetError):
    """Input that cannot be settled; the message names the account, period, payment or date."""

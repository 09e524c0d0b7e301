"""The money after the accruals: allocation of payments, balances and penalties (пени).

Pure: amounts are integer kopecks, rates integer basis points, days date ordinals.
"""

from core.ledger.case import ledger_case
from core.ledger.errors import LedgerError

__all__ = ["LedgerError", "ledger_case"]

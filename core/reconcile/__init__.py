"""Reconciliation of a property register (ЕГРН extract, municipal or ГАР-based list) with the
accounts: matching by cadastral number, ГАР/ФИАС code or address, and the report of what differs
with the money at stake (docs/reconcile.md). Pure: no I/O."""

from core.reconcile.match import Match, MatchOptions, match_register
from core.reconcile.model import AccountPremise, HouseRates, RegisterRow
from core.reconcile.report import Finding, HouseSummary, Report, reconcile

__all__ = [
    "AccountPremise",
    "Finding",
    "HouseRates",
    "HouseSummary",
    "Match",
    "MatchOptions",
    "RegisterRow",
    "Report",
    "match_register",
    "reconcile",
]

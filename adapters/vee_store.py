"""Moved: batch VEE is :func:`ingest.vee.run_vee`; its SQL is :mod:`adapters.store.vee`.

Kept for the two pages that still import ``list_anomalies`` from here.
"""

from adapters.store.vee import list_anomalies
from core.periods import PeriodError, parse_period

__all__ = ["PeriodError", "list_anomalies", "parse_period"]

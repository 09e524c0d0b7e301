"""Billing from the database: reference data in (``uchet load``), accruals out (``uchet bill``).

- :mod:`~adapters.billing.reference` parses the reference file (docs/billing-data.md);
  :mod:`~adapters.billing.load` upserts it.
- :mod:`~adapters.billing.period` builds the core's ``BillingInput`` for a period from the
  tables, the readings and the estimates billed by earlier runs.
- :mod:`~adapters.billing.accruals` writes a result; the run itself is
  :func:`ingest.billing.bill_period`.
"""

from adapters.billing.load import LoadReport, load_reference
from adapters.billing.period import PeriodData, load_period
from adapters.billing.reference import ReferenceData, parse_reference

__all__ = [
    "LoadReport",
    "PeriodData",
    "ReferenceData",
    "load_period",
    "load_reference",
    "parse_reference",
]

"""Billing from the database: reference data in (``uchet load``), accruals out (``uchet bill``).

- :mod:`~adapters.billing.reference` parses the reference file (docs/billing-data.md);
  :mod:`~adapters.store.billing_load` upserts it.
- :mod:`~adapters.store.billing_period` builds the core's ``BillingInput`` for a period from the
  tables, the readings and the estimates billed by earlier runs.
- :mod:`~adapters.store.billing_accruals` writes a result; the run itself is
  :func:`ingest.billing.bill_period`.
"""

from adapters.billing.reference import ReferenceData, parse_reference

__all__ = ["ReferenceData", "parse_reference"]

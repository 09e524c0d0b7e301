"""The PostgreSQL/TimescaleDB store: schema migrations, meter registry, readings, quarantine."""

from adapters.store.db import connect_pool
from adapters.store.migrations import migrate
from adapters.store.writer import BatchResult, ReadingStore

__all__ = ["BatchResult", "ReadingStore", "connect_pool", "migrate"]

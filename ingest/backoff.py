"""Moved to :mod:`core.backoff` (kept until every importer uses that)."""

from core.backoff import Backoff

__all__ = ["Backoff"]

"""Intakes for tests, built the way the commands build them: from settings."""

from __future__ import annotations

from typing import Any

from adapters.store import ReadingStore
from core.config import Settings
from ingest.intake import Intake

HISTORY_DAYS = 36_500
"""Back-fill window for tests that import old sample files (80020 samples from 2008)."""


def history_intake(store: ReadingStore, **settings: Any) -> Intake:
    """An intake that accepts the old sample files (the window is a setting like any other)."""
    settings.setdefault("backfill_days", HISTORY_DAYS)
    return Intake.from_settings(store, Settings(**settings))

"""The sample files here are years old: the back-fill window (a setting, like any other)
covers them, so the commands and importers built from settings in these tests accept them."""

import pytest

from tests.intake_tools import HISTORY_DAYS


@pytest.fixture(autouse=True)
def history_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UCHET_BACKFILL_DAYS", str(HISTORY_DAYS))

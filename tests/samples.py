"""Third-party sample files the tests read from ``../shared/samples/`` (beside the repository).

The repository keeps no copies of them; where ``shared/`` is absent (a bare clone) the tests
that need them are skipped with the reason shown.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED

ASKUE = SHARED / "samples" / "askue"
"""Five real 80020 files of 2008 (see shared/samples/askue/README.md)."""

_ABSENT = f"needs the 80020 samples in {ASKUE} (../shared beside the repository)"

needs_askue = pytest.mark.skipif(not ASKUE.is_dir(), reason=_ABSENT)
"""Marks a test that reads the 80020 samples: skipped, with the reason, where they are absent."""


def askue_sample(name: str) -> Path:
    """One 80020 sample by file name; skips the calling test where the samples are absent."""
    path = ASKUE / name
    if not path.is_file():
        pytest.skip(_ABSENT)
    return path

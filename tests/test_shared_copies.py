"""The test copies of shared data stay identical to ``shared/`` (when it is beside the repo)."""

from __future__ import annotations

import pytest

from tests.conftest import DATA, SHARED

PAIRS = [
    (SHARED / "samples" / "askue", DATA / "askue", "*.xml"),
    (SHARED / "cases", DATA.parent / "billing" / "cases", "*.json"),
]


@pytest.mark.parametrize(("original", "copy", "pattern"), PAIRS)
def test_copies_match_shared(original, copy, pattern):
    if not original.is_dir():
        pytest.skip(f"{original} is not beside the repository")
    names = sorted(p.name for p in original.glob(pattern))
    assert names == sorted(p.name for p in copy.glob(pattern))
    for name in names:
        assert (copy / name).read_bytes() == (original / name).read_bytes(), name

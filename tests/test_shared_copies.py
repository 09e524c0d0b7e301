"""What the repository keeps of ``shared/`` (the specs beside it).

The billing cases are the project's own acceptance cases: the repository keeps copies,
identical to ``shared/cases``. Third-party sample files (``shared/samples/``) are not copied:
the tests read them from ``shared/`` and skip where it is absent (tests/samples.py).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parent.parent
CASES = (SHARED / "cases", ROOT / "tests" / "billing" / "cases", "*.json")


def test_billing_cases_match_shared() -> None:
    original, copy, pattern = CASES
    if not original.is_dir():
        pytest.skip(f"{original} is not beside the repository")
    names = sorted(p.name for p in original.glob(pattern))
    assert names == sorted(p.name for p in copy.glob(pattern))
    for name in names:
        assert (copy / name).read_bytes() == (original / name).read_bytes(), name


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_repository_keeps_no_copy_of_a_third_party_sample() -> None:
    samples = SHARED / "samples"
    if not samples.is_dir():
        pytest.skip(f"{samples} is not beside the repository")
    by_digest = {_digest(p): p for p in samples.rglob("*") if p.is_file() and p.stat().st_size}
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git work tree")
    tracked = [ROOT / name for name in listed.stdout.decode().split("\0") if name]
    copies = [
        f"{p.relative_to(ROOT)} = {by_digest[_digest(p)].relative_to(SHARED)}"
        for p in tracked
        if p.is_file() and _digest(p) in by_digest
    ]
    assert copies == [], "copies of shared/samples in the repository"

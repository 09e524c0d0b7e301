"""The repository stays lint-clean and ``core/`` stays strictly typed and free of I/O."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IO_LIBRARIES = re.compile(
    r"^\s*(import|from)\s+(asyncpg|aiomqtt|paho|pymodbus|fastapi|starlette|uvicorn|asyncio)\b",
    re.M,
)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_check_and_format() -> None:
    lint = _run("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.slow
def test_mypy_strict_on_core() -> None:
    result = _run("mypy", "core")
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_imports_no_io_library() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "core").rglob("*.py")
        if IO_LIBRARIES.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []

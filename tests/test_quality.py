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


# -- layers and the store boundary (design.md) --

PACKAGES = ("core", "adapters", "ingest", "api", "simulators")
ALLOWED = {
    "core": {"core"},
    "adapters": {"core", "adapters"},
    "ingest": {"core", "adapters", "ingest"},
    "simulators": {"core", "simulators"},
    "api": {"core", "adapters", "ingest", "api", "simulators"},  # the CLI runs simulators
}
STORE_ACCESS = re.compile(
    r"^\s*(import|from)\s+asyncpg\b|\.(fetch|fetchrow|fetchval|execute|executemany)\(", re.M
)
LEGACY_STORE_ACCESS: frozenset[str] = frozenset()
"""Files outside adapters/store still allowed to talk SQL: none since issue #14. Keep it so."""


def _sources() -> list[tuple[str, Path]]:
    return [
        (top, p)
        for top in PACKAGES
        for p in sorted((ROOT / top).rglob("*.py"))
        if "__pycache__" not in p.parts
    ]


def test_layers_import_only_what_design_allows() -> None:
    import ast

    offenders = []
    for top, path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                first = name.split(".")[0]
                if first in PACKAGES and first not in ALLOWED[top]:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_only_the_store_adapter_talks_sql() -> None:
    offending = {
        str(path.relative_to(ROOT))
        for _, path in _sources()
        if not path.is_relative_to(ROOT / "adapters" / "store")
        and STORE_ACCESS.search(path.read_text(encoding="utf-8"))
    }
    assert offending - LEGACY_STORE_ACCESS == set(), "SQL outside adapters/store"
    assert LEGACY_STORE_ACCESS - offending == set(), "moved: remove from LEGACY_STORE_ACCESS"

"""The quickstart on a fresh clone with nothing beside it: the wheel built from the tracked
files installs into a clean virtualenv (no system site-packages, not this repository's venv)
and ``uchet demo`` runs from an empty directory with no ``../shared``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> str:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    return out.stdout


def _clone(dest: Path) -> None:
    """The work tree's files that git does not ignore: what a clone holds once committed."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
    )
    if listed.returncode != 0:
        pytest.skip("not a git work tree: cannot tell which files a clone holds")
    for name in listed.stdout.decode().split("\0"):
        src = ROOT / name
        if name and src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def test_wheel_installs_into_a_clean_venv_and_the_demo_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UCHET_", "PYTHON"))}
    env.pop("VIRTUAL_ENV", None)
    src, wheels, venv, empty = (tmp_path / d for d in ("src", "wheels", "venv", "empty"))
    for d in (src, wheels, empty):
        d.mkdir()
    _clone(src)
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "-q", "--no-deps", str(src), "-w", str(wheels)], cwd=tmp_path,
         env=env, timeout=300)  # fmt: skip
    (wheel,) = wheels.glob("uchet-*.whl")
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", str(venv)], cwd=tmp_path, env=env, timeout=120)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path, env=env,
         timeout=600)  # fmt: skip
    where = _run([str(python), "-c", "import api, sys; print(api.__file__); print(sys.path)"],
                 cwd=empty, env=env, timeout=60)  # fmt: skip
    assert where.startswith(str(venv)), where  # the installed package, not this repository
    assert str(ROOT) not in where

    env["UCHET_HOME"] = str(tmp_path / "home")
    assert not (empty.parent / "shared").exists()
    out = _run([str(venv / "bin" / "uchet"), "demo", "--houses", "2", "--seed", "3"],
               cwd=empty, env=env, timeout=300)  # fmt: skip
    assert out.startswith("uchet demo: город, домов 2"), out
    lines = out.splitlines()
    kinds = ("mqtt:", "modbus:", "askue:", "api:")
    paths = [x.strip() for x in lines if x.strip().startswith(kinds)]
    assert len(paths) == 4 and all("(сходится;" in x for x in paths), out
    assert any(x.strip().startswith("начисления: Ошибка начислений ") for x in lines), out
    assert any(x.startswith("готово за ") for x in lines), out
    # the report's charts: the vendored Chart.js inlined from the installed package's data
    html = (tmp_path / "home" / "demo" / "report.html").read_text(encoding="utf-8")
    assert "Chart.js v4" in html and html.count("<canvas") == 3

"""The installed ``uchet`` entry point as a person uses it (issue #20): help is fast because
command modules are imported only when run, a closed pipe ends quietly, set-password without
a terminal reads stdin or says how, help shows defaults (demo's own)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from api.cli import COMMANDS, SIMULATE, SIMULATIONS, Parser, build_parser

UCHET = str(Path(sys.executable).with_name("uchet"))
HEAVY = ("asyncpg", "pydantic", "fastapi", "amqtt", "uvicorn")  # argon2: accounts ROLES
# Commands whose modules are owned elsewhere and still import the store up front.
NOT_YET_LAZY = {
    "bill-case", "load", "bill", "ledger-case", "ledger", "payments", "key-rate", "epd",
    "reconcile",
}  # fmt: skip


def uchet(*args: str, **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [UCHET, *args], capture_output=True, text=True, timeout=60, check=False, **kw
    )


def test_entry_point_is_installed() -> None:
    assert os.access(UCHET, os.X_OK), UCHET


def test_top_level_help_is_fast() -> None:
    best = min(_timed("--help") for _ in range(3))
    assert best < 0.5, f"uchet --help took {best:.2f} s"


def _timed(*args: str) -> float:
    t0 = time.perf_counter()
    done = uchet(*args)
    assert done.returncode == 0, done.stderr
    return time.perf_counter() - t0


@pytest.mark.parametrize(
    "argv",
    [[]] + [[c] for c in COMMANDS if c not in NOT_YET_LAZY] + [[SIMULATE, w] for w in SIMULATIONS],
    ids=lambda a: " ".join(a) or "uchet",
)
def test_help_imports_nothing_heavy(argv: list[str]) -> None:
    probe = (
        "import sys, json\n"
        "from api.cli import main\n"
        "try:\n"
        f"    main({[*argv, '--help']!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert "использование: uchet" in done.stdout
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_table_names_what_the_modules_register() -> None:
    parser = build_parser()  # every module imported: the real registrations
    sub = _subparsers(parser)
    assert set(sub.choices) == {SIMULATE, *COMMANDS}
    helps = {a.dest: a.help for a in sub._choices_actions}
    for name, (module, text) in COMMANDS.items():
        assert helps[name] == text, name
        assert hasattr(importlib.import_module(module), "register")
    sim = _subparsers(sub.choices[SIMULATE])
    assert set(sim.choices) == set(SIMULATIONS)
    sim_helps = {a.dest: a.help for a in sim._choices_actions}
    assert sim_helps == {k: v[1] for k, v in SIMULATIONS.items()}


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def test_a_command_still_runs_after_lazy_registration() -> None:
    done = uchet("meters", "bind", "--help")
    assert done.returncode == 0 and "--premise" in done.stdout
    bad = uchet("meters", "frobnicate")
    assert bad.returncode == 2 and "недопустимое значение" in bad.stderr


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    made = uchet("simulate", "askue", "--out", str(tmp_path), "--points", "40", "--days", "3")
    assert made.returncode == 0, made.stderr
    files = sorted(str(p) for p in tmp_path.glob("*.xml"))
    assert files
    # `uchet askue parse ... | head -1`: the reader goes away after one line
    proc = subprocess.Popen(
        [UCHET, "askue", "parse", *files],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    with proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert first.startswith(b"{")
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert code == 141


def test_set_password_without_a_terminal_says_how() -> None:
    done = uchet("accounts", "set-password", "0001")  # stdin: /dev/null, no TTY
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "EOFError" not in done.stderr
    assert "no password on standard input" in done.stderr
    assert "--generate" in done.stderr


def test_set_password_without_a_terminal_reads_stdin() -> None:
    # read from the pipe (no --password-stdin): too short is refused before any database work
    done = uchet("accounts", "set-password", "0001", input="short\n", stdin=None)
    assert done.returncode == 2, done.stderr
    assert "at least 8 characters" in done.stderr


@pytest.mark.postgres
async def test_set_password_from_a_pipe_reaches_the_store(db_url: str) -> None:
    from api.runtime import migrate_url

    await migrate_url(db_url)
    env = {**os.environ, "UCHET_DATABASE_URL": db_url}
    done = uchet(
        "accounts", "set-password", "no-such-acc", input="long enough pw\n", stdin=None, env=env
    )
    assert done.returncode == 2
    assert "no premise has account 'no-such-acc'" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_shows_defaults() -> None:
    done = uchet("anomalies", "--help")
    assert "(по умолчанию: 1000)" in " ".join(done.stdout.split())
    sim = " ".join(uchet("simulate", "mqtt", "--help").stdout.split())
    assert "--meters METERS (по умолчанию: 100)" in sim


def test_demo_help_shows_its_own_defaults() -> None:
    demo = " ".join(uchet("demo", "--help").stdout.split())
    assert "папка отчёта (по умолчанию: $UCHET_HOME/demo)" in demo
    assert "city-<seed>" not in demo
    assert "домов (по умолчанию 3)" in demo
    city = " ".join(uchet("simulate", "city", "--help").stdout.split())
    assert "папка отчёта (по умолчанию: $UCHET_HOME/city-<seed>)" in city
    assert "домов (по умолчанию 100)" in city


def test_help_and_argparse_speak_russian() -> None:
    top = uchet("--help")
    assert top.stdout.startswith("использование: uchet")
    assert "показать эту справку и выйти" in top.stdout
    assert "usage" not in top.stdout and "options" not in top.stdout
    bill = " ".join(uchet("bill", "--help").stdout.split())
    assert "--period PERIOD расчётный месяц, YYYY-MM" in bill
    missing = uchet("bill")
    assert missing.returncode == 2
    assert "uchet bill: ошибка: не указаны обязательные аргументы: --period" in missing.stderr
    unknown = uchet("frobnicate")
    assert "uchet: ошибка: аргумент COMMAND: недопустимое значение: 'frobnicate'" in unknown.stderr
    valueless = uchet("bill", "--period")
    assert "аргумент --period: нужно значение" in valueless.stderr
    assert "error" not in missing.stderr + unknown.stderr + valueless.stderr


def test_argparse_stays_english_outside_uchet() -> None:
    build_parser(["bill"])  # the translation is installed
    other = argparse.ArgumentParser(prog="other")
    other.add_argument("--n", type=int, required=True)
    assert other.format_usage().startswith("usage: other")
    assert "show this help message and exit" in other.format_help()


@pytest.mark.parametrize(
    ("n", "word"),
    [(1, "значение"), (2, "значения"), (5, "значений"), (11, "значений"), (21, "значение"),
     (23, "значения")],
)  # fmt: skip
def test_plural_messages(n: int, word: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = Parser(prog="uchet")
    parser.add_argument("--pair", nargs=n)
    with pytest.raises(SystemExit):
        parser.parse_args(["--pair"])
    assert f"uchet: ошибка: аргумент --pair: нужно {n} {word}\n" in capsys.readouterr().err


def test_project_errors_use_the_same_word(capsys: pytest.CaptureFixture[str]) -> None:
    from api.cli import main

    assert main(["anomalies", "--period", "2026-13"]) == 2
    assert "uchet anomalies: ошибка: " in capsys.readouterr().err

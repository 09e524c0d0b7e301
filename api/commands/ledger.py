"""Ledger commands: ``uchet ledger-case CASE.json`` (spec/ledger-case.md, JSON to stdout)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.ledger import LedgerError, ledger_case


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``ledger-case``."""
    parser = sub.add_parser(
        "ledger-case", help="settle a self-contained JSON ledger case (payments, penalties)"
    )
    parser.add_argument("case", type=Path, help="ledger case JSON file")
    parser.set_defaults(func=run_ledger_case)


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise LedgerError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LedgerError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from exc


def run_ledger_case(args: argparse.Namespace) -> int:
    path: Path = args.case
    try:
        out = ledger_case(read_json(path))
    except LedgerError as exc:
        raise LedgerError(f"{path}: {exc}") from exc
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0

"""``uchet bill-case CASE.json``: bills a self-contained case (spec/billing-case.md) to stdout."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.billing.case import bill_case
from core.errors import BillingError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``bill-case``."""
    parser = sub.add_parser("bill-case", help="bill a self-contained JSON case, print JSON")
    parser.add_argument("case", type=Path, help="billing case JSON file")
    parser.add_argument(
        "--no-explanation", action="store_true", help="omit the explanation of each line"
    )
    parser.set_defaults(func=run_bill_case)


def run_bill_case(args: argparse.Namespace) -> int:
    path: Path = args.case
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BillingError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BillingError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from exc
    try:
        out = bill_case(doc, explain=not args.no_explanation)
    except BillingError as exc:
        raise BillingError(f"{path}: {exc}") from exc
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0

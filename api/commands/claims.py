"""``uchet claims``: the claims workflow of debtors (претензионно-исковая работа, issue #19)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``claims`` (its subcommands come with the workflow)."""
    parser = sub.add_parser("claims", help="debtors' claims: notice, warning, lawyers, court, writ")
    parser.set_defaults(func=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    print("uchet claims: not available yet", flush=True)
    return 2

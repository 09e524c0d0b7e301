"""Placeholder: account and API-key commands are not written yet."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers nothing yet."""

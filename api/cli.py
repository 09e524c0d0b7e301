"""The ``uchet`` command line: one parser, subcommands registered by modules of api.commands.

Each module in COMMAND_MODULES exposes ``register(subparsers)`` and may expose
``register_simulate(subparsers)`` for ``uchet simulate <what>``. A handler is stored as
``func`` on the parsed namespace and returns the exit code. Errors of the project
(:class:`core.errors.UchetError`) are printed as one line on stderr, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from core.errors import UchetError

COMMAND_MODULES = (
    "api.commands.store",
    "api.commands.gateway",
    "api.commands.serve",
    "api.commands.accounts",
    "api.commands.operate",
    "api.commands.readings",
    "api.commands.vee",
    "api.commands.simulate_mqtt",
    "api.commands.demo",
    "api.commands.billing",
    "api.commands.askue",
    "api.commands.modbus",
    "api.commands.city",
    "api.commands.ledger",
    "api.commands.reconcile",
)

log = logging.getLogger("uchet")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uchet", description="Meter-data gateway and ПП 354 billing for ЖКХ."
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    simulate = sub.add_parser("simulate", help="run simulated meter fleets and devices")
    sim_sub = simulate.add_subparsers(dest="simulate_what", metavar="WHAT", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(sub)
        if hasattr(module, "register_simulate"):
            module.register_simulate(sim_sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        code: int = args.func(args)
    except UchetError as exc:
        print(f"uchet {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())

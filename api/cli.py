"""The ``uchet`` command line: one parser, subcommands registered by modules of api.commands.

Each module named in COMMANDS exposes ``register(subparsers)`` and may expose
``register_simulate(subparsers)`` for ``uchet simulate <what>``. A handler is stored as
``func`` on the parsed namespace and returns the exit code. Errors of the project
(:class:`core.errors.UchetError`) are printed as one line on stderr, never as a traceback.

Only the module of the command being run is imported (``uchet --help`` imports none): the
other commands get a stub parser from the table below, which carries their one-line help.
tests/cli/test_cli_usability.py checks the table against what the modules register.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from core.errors import UchetError

# command -> (module that registers it, one-line help); in the order of ``uchet --help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "migrate": ("api.commands.store", "create or upgrade the schema (idempotent)"),
    "stats": ("api.commands.store", "ingestion counters from the store"),
    "gateway": ("api.commands.gateway", "run the configured sources into the store"),
    "api": ("api.commands.serve", "serve the HTTP API"),
    "accounts": ("api.commands.accounts", "resident logins (лицевой счёт + password)"),
    "apikeys": ("api.commands.accounts", "operator API keys with roles"),
    "meters": ("api.commands.operate", "the meter registry: list, bind"),
    "quarantine": ("api.commands.operate", "quarantined readings: list, replay"),
    "readings": (
        "api.commands.readings",
        "exclude a reading from billing, or include it again",
    ),
    "vee": (
        "api.commands.vee",
        "batch VEE of a period: anomalies, house balance, estimates",
    ),
    "anomalies": ("api.commands.vee", "list stored anomalies"),
    "demo": ("api.commands.demo", "replay a small simulated city through the whole system"),
    "bill-case": ("api.commands.billing", "bill a self-contained JSON case, print JSON"),
    "load": (
        "api.commands.billing",
        "load houses, premises, meter bindings, tariffs, normatives (JSON file)",
    ),
    "bill": ("api.commands.billing", "bill the store for a period (replaces its accruals)"),
    "askue": ("api.commands.askue", "ASKUE export files (макет 80020)"),
    "modbus": ("api.commands.modbus", "Modbus TCP devices: poll a device list, profiles"),
    "mqtt": ("api.commands.mqtt_try", "MQTT payloads: try a message against the mappings"),
    "ledger-case": (
        "api.commands.ledger",
        "settle a self-contained JSON ledger case (payments, penalties)",
    ),
    "ledger": ("api.commands.ledger", "the month's statements of every account (JSON)"),
    "payments": ("api.commands.ledger", "bank payment registers and single payments"),
    "key-rate": ("api.commands.ledger", "Bank of Russia key rates (reference data)"),
    "epd": ("api.commands.ledger", "ЕПД PDFs of a month: every account, a house's, or some"),
    "claims": (
        "api.commands.claims",
        "debtors' claims: notice, warning, lawyers, court, writ",
    ),
    "reconcile": ("api.commands.reconcile", "property register vs accounts (неучтённые)"),
    "notify": (
        "api.commands.notify",
        "notifications to residents and operators: enqueue, send, list, bounces",
    ),
}
SIMULATE = "simulate"
# uchet simulate <what> -> (module with register_simulate, one-line help)
SIMULATIONS: dict[str, tuple[str, str]] = {
    "mqtt": (
        "api.commands.simulate_mqtt",
        "publish a simulated smart-meter fleet to an MQTT broker",
    ),
    "askue": ("api.commands.askue", "write 80020 files for a simulated fleet, with ground truth"),
    "modbus": (
        "api.commands.modbus",
        "pymodbus servers presenting simulated meters from profiles",
    ),
    "city": (
        "api.commands.city",
        "replay a simulated town through uchet and report the billing error",
    ),
}
COMMAND_MODULES = tuple(dict.fromkeys(m for m, _ in (*COMMANDS.values(), *SIMULATIONS.values())))
SIGPIPE_EXIT = 141  # what a shell reports for a writer killed by SIGPIPE (`uchet ... | head`)

log = logging.getLogger("uchet")


class HelpFormatter(argparse.HelpFormatter):
    """Shows an option's default after its help (an option without help gets one saying
    just the default), unless the help already says it or there is none worth saying."""

    def _format_action(self, action: argparse.Action) -> str:
        if action.help is None and _shows_default(action):
            action = copy.copy(action)
            action.help = "(default: %(default)s)"
        return super()._format_action(action)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text.lower() or not _shows_default(action):
            return action.help
        return f"{text} (default: %(default)s)"


def _shows_default(action: argparse.Action) -> bool:
    return bool(action.option_strings) and action.default not in (
        None, False, "", [], argparse.SUPPRESS,
    )  # fmt: skip


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose help shows defaults; subparsers inherit the class."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def _wanted(argv: Sequence[str]) -> tuple[str | None, str | None]:
    """The command (and simulation) named on the command line, before parsing it."""
    words = [a for a in argv if not a.startswith("-")]
    command = words[0] if words else None
    what = words[1] if command == SIMULATE and len(words) > 1 else None
    return command, what


def _register(
    sub: argparse._SubParsersAction[Any],
    table: dict[str, tuple[str, str]],
    wanted: str | None,
    hook: str,
) -> None:
    """Registers the module of ``wanted`` for real and every other name as a stub."""
    wanted_module = table[wanted][0] if wanted in table else None
    for name, (module_name, help_text) in table.items():
        if module_name == wanted_module:
            getattr(importlib.import_module(module_name), hook)(sub)
            wanted_module = None  # registers all of its names at once
        if name not in sub.choices:
            sub.add_parser(name, help=help_text, description=help_text)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: the named command's module is imported; all when argv is None."""
    parser = Parser(prog="uchet", description="Meter-data gateway and ПП 354 billing for ЖКХ.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    simulate = sub.add_parser(SIMULATE, help="run simulated meter fleets and devices")
    sim_sub = simulate.add_subparsers(dest="simulate_what", metavar="WHAT", required=True)
    if argv is None:
        for module_name in COMMAND_MODULES:
            module = importlib.import_module(module_name)
            module.register(sub)
            if hasattr(module, "register_simulate"):
                module.register_simulate(sim_sub)
        return parser
    command, what = _wanted(argv)
    _register(sub, COMMANDS, command, "register")
    _register(sim_sub, SIMULATIONS, what, "register_simulate")
    return parser


def _quiet_stdout() -> None:
    """After a closed pipe: later writes (and the flush at exit) go nowhere, silently."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(argv)
    except BrokenPipeError:
        _quiet_stdout()
        return SIGPIPE_EXIT


def _run(argv: list[str]) -> int:
    parser = build_parser(argv)
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

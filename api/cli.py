"""The ``uchet`` command line: one parser, subcommands registered by modules of api.commands.

Each module named in COMMANDS exposes ``register(subparsers)`` and may expose
``register_simulate(subparsers)`` for ``uchet simulate <what>``. A handler is stored as
``func`` on the parsed namespace and returns the exit code. Errors of the project
(:class:`core.errors.UchetError`) are printed as one line on stderr, never as a traceback.

Only the module of the command being run is imported (``uchet --help`` imports none): the
other commands get a stub parser from the table below, which carries their one-line help.
tests/cli/test_cli_usability.py checks the table against what the modules register.

Help is Russian (issue #20), argparse's own words too: a Parser translates them while it works
(_ARGPARSE_RU); any other argparse parser in the process keeps its English.
"""

from __future__ import annotations

import argparse
import copy
import functools
import importlib
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from core.errors import UchetError

# command -> (module that registers it, one-line help); in the order of ``uchet --help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "migrate": (
        "api.commands.store",
        "создать или обновить схему базы данных (повторный запуск безопасен)",
    ),
    "stats": ("api.commands.store", "статистика приёма показаний из хранилища"),
    "gateway": (
        "api.commands.gateway",
        "запустить настроенные источники данных с записью в хранилище",
    ),
    "api": ("api.commands.serve", "запустить HTTP API"),
    "accounts": ("api.commands.accounts", "вход жителей (лицевой счёт + пароль)"),
    "apikeys": ("api.commands.accounts", "API-ключи операторов с ролями"),
    "meters": ("api.commands.operate", "реестр счётчиков: список, привязка"),
    "quarantine": ("api.commands.operate", "показания в карантине: список, повторная обработка"),
    "readings": (
        "api.commands.readings",
        "исключить показание из расчёта или вернуть его",
    ),
    "vee": (
        "api.commands.vee",
        "VEE за период: аномалии, баланс домов, расчётные показания",
    ),
    "anomalies": ("api.commands.vee", "список сохранённых аномалий"),
    "demo": ("api.commands.demo", "прогнать небольшой моделируемый город через всю систему"),
    "bill-case": (
        "api.commands.billing",
        "рассчитать начисления по автономному примеру из JSON, вывести JSON",
    ),
    "load": (
        "api.commands.billing",
        "загрузить дома, помещения, привязки счётчиков, тарифы, нормативы (файл JSON)",
    ),
    "bill": (
        "api.commands.billing",
        "начислить за период по данным хранилища (заменяет его начисления)",
    ),
    "askue": ("api.commands.askue", "файлы выгрузки АСКУЭ (макет 80020)"),
    "modbus": ("api.commands.modbus", "устройства Modbus TCP: опрос по списку, профили"),
    "mqtt": ("api.commands.mqtt_try", "сообщения MQTT: проверить сообщение по сопоставлениям"),
    "ledger-case": (
        "api.commands.ledger",
        "рассчитать оплаты и пени по автономному примеру из JSON",
    ),
    "ledger": ("api.commands.ledger", "выписки всех лицевых счетов за месяц (JSON)"),
    "payments": ("api.commands.ledger", "реестры платежей банков и отдельные платежи"),
    "key-rate": ("api.commands.ledger", "ключевые ставки Банка России (справочник)"),
    "epd": (
        "api.commands.ledger",
        "ЕПД в PDF за месяц: все лицевые счета, счета дома или выбранные",
    ),
    "claims": (
        "api.commands.claims",
        "претензии к должникам: уведомление, предупреждение, юристы, суд, исп. лист",
    ),
    "reconcile": (
        "api.commands.reconcile",
        "сверка реестра имущества с лицевыми счетами (неучтённые)",
    ),
    "notify": (
        "api.commands.notify",
        "уведомления жителям и операторам: очередь, отправка, список, возвраты писем",
    ),
}
SIMULATE = "simulate"
# uchet simulate <what> -> (module with register_simulate, one-line help)
SIMULATIONS: dict[str, tuple[str, str]] = {
    "mqtt": (
        "api.commands.simulate_mqtt",
        "публиковать в брокер MQTT показания моделируемых умных счётчиков",
    ),
    "askue": (
        "api.commands.askue",
        "записать файлы 80020 моделируемых счётчиков и истинные значения",
    ),
    "modbus": (
        "api.commands.modbus",
        "серверы pymodbus с моделируемыми счётчиками по профилям",
    ),
    "city": (
        "api.commands.city",
        "прогнать моделируемый город через uchet и показать ошибку начислений",
    ),
}
COMMAND_MODULES = tuple(dict.fromkeys(m for m, _ in (*COMMANDS.values(), *SIMULATIONS.values())))
SIGPIPE_EXIT = 141  # what a shell reports for a writer killed by SIGPIPE (`uchet ... | head`)

log = logging.getLogger("uchet")
T = TypeVar("T")


#: argparse's own messages (the msgids of Python 3.11's argparse) as uchet says them
_ARGPARSE_RU = {
    "usage: ": "использование: ",
    "positional arguments": "позиционные аргументы",
    "options": "параметры",
    "subcommands": "команды",
    "show this help message and exit": "показать эту справку и выйти",
    "%(prog)s: error: %(message)s\n": "%(prog)s: ошибка: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "аргумент %(argument_name)s: %(message)s",
    "the following arguments are required: %s": "не указаны обязательные аргументы: %s",
    "one of the arguments %s is required": "нужен один из аргументов %s",
    "not allowed with argument %s": "нельзя вместе с аргументом %s",
    "unrecognized arguments: %s": "неизвестные аргументы: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "недопустимое значение: %(value)r (возможные: %(choices)s)"
    ),
    "unknown parser %(parser_name)r (choices: %(choices)s)": (
        "неизвестная команда %(parser_name)r (возможные: %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "недопустимое значение: %(value)r",
    "expected one argument": "нужно значение",
    "expected at most one argument": "нужно не больше одного значения",
    "expected at least one argument": "нужно хотя бы одно значение",
    "ambiguous option: %(option)s could match %(matches)s": (
        "неоднозначный параметр: %(option)s может означать %(matches)s"
    ),
    "ignored explicit argument %r": "значение %r здесь не принимается",
    "unexpected option string: %s": "неожиданный параметр: %s",
    "can't open '%(filename)s': %(error)s": "не удаётся открыть '%(filename)s': %(error)s",
}
#: argparse's plural messages: (singular, plural) -> the three Russian forms (1, 2-4, 5+)
_ARGPARSE_RU_PLURAL = {
    ("expected %s argument", "expected %s arguments"): (
        "нужно %s значение",
        "нужно %s значения",
        "нужно %s значений",
    ),
}
_russian = 0  # > 0 while a Parser works: argparse's messages are then translated


def _ru(message: str) -> str:
    """argparse's ``_``: Russian inside a Parser, unknown messages as they are."""
    return _ARGPARSE_RU.get(message, message) if _russian else message


def _ru_plural(singular: str, plural: str, n: int) -> str:
    """argparse's ``ngettext`` with the Russian plural forms."""
    forms = _ARGPARSE_RU_PLURAL.get((singular, plural)) if _russian else None
    if forms is None:
        return singular if n == 1 else plural
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    return forms[1] if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else forms[2]


# argparse looks its ``_`` and ``ngettext`` up when it speaks: uchet's parsers speak Russian,
# any other parser in the process (pytest's, a bench script's) stays as it was.
argparse._ = _ru  # type: ignore[attr-defined]
argparse.ngettext = _ru_plural  # type: ignore[attr-defined]


def _in_russian(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        global _russian
        _russian += 1
        try:
            return method(*args, **kwargs)
        finally:
            _russian -= 1

    return wrapper


DEFAULT = "(по умолчанию: %(default)s)"


class HelpFormatter(argparse.HelpFormatter):
    """Shows an option's default after its help (an option without help gets one saying
    just the default), unless the help already says it or there is none worth saying."""

    def _format_action(self, action: argparse.Action) -> str:
        if action.help is None and _shows_default(action):
            action = copy.copy(action)
            action.help = DEFAULT
        return super()._format_action(action)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if _says_default(text) or not _shows_default(action):
            return action.help
        return f"{text} {DEFAULT}"

    # lines are not broken at hyphens: YYYY-MM, --in-place, ОДПУ-… stay whole
    def _split_lines(self, text: str, width: int) -> list[str]:
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.wrap(text, width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.fill(
            text, width, initial_indent=indent, subsequent_indent=indent,
            break_on_hyphens=False,
        )  # fmt: skip


def _says_default(text: str) -> bool:
    lowered = text.lower()
    return "по умолчанию" in lowered or "default" in lowered


def _shows_default(action: argparse.Action) -> bool:
    return bool(action.option_strings) and action.default not in (
        None, False, "", [], argparse.SUPPRESS,
    )  # fmt: skip


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose help shows defaults and which speaks Russian (argparse's own
    messages too: see _ARGPARSE_RU); subparsers inherit the class."""

    @_in_russian
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    add_subparsers = _in_russian(argparse.ArgumentParser.add_subparsers)
    parse_args = _in_russian(argparse.ArgumentParser.parse_args)  # type: ignore[assignment]
    parse_known_args = _in_russian(argparse.ArgumentParser.parse_known_args)  # type: ignore[assignment]
    format_usage = _in_russian(argparse.ArgumentParser.format_usage)
    format_help = _in_russian(argparse.ArgumentParser.format_help)
    error = _in_russian(argparse.ArgumentParser.error)


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
    parser = Parser(
        prog="uchet", description="Шлюз показаний счётчиков и начисления ЖКХ по ПП 354."
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="подробный журнал (-vv: с отладкой)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    simulate = sub.add_parser(SIMULATE, help="моделируемые счётчики и устройства")
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
        print(f"uchet {args.command}: ошибка: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())

"""``uchet accounts set-password ACCOUNT`` (residents) and ``uchet apikeys create|list|revoke``
(operators' API keys). Secrets are printed once and never logged."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from core.errors import ConfigError, UchetError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from api.security import ROLES

    accounts = sub.add_parser("accounts", help="вход жителей (лицевой счёт + пароль)")
    actions = accounts.add_subparsers(dest="accounts_action", metavar="ACTION", required=True)
    p = actions.add_parser(
        "set-password",
        help="задать или сменить пароль жителя (прежние токены перестают действовать)",
    )
    p.add_argument("account", help="лицевой счёт помещения")
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--generate", action="store_true", help="создать пароль и показать его один раз"
    )
    how.add_argument(
        "--password-stdin",
        action="store_true",
        help="прочитать пароль (одну строку) со стандартного ввода; без терминала —"
        " и без этого флага",
    )
    p.set_defaults(func=cmd_set_password)

    keys = sub.add_parser("apikeys", help="API-ключи операторов с ролями")
    actions = keys.add_subparsers(dest="apikeys_action", metavar="ACTION", required=True)
    p = actions.add_parser("create", help="создать ключ и показать его один раз")
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument("--name", required=True, help="кто или что пользуется ключом")
    p.set_defaults(func=cmd_create_key)
    p = actions.add_parser("list", help="список ключей (без самих ключей)")
    p.set_defaults(func=cmd_list_keys)
    p = actions.add_parser("revoke", help="отозвать ключ по id")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_revoke_key)


async def _with_conn(fn):  # type: ignore[no-untyped-def]
    from adapters.store.connections import single
    from api.runtime import database_url, settings

    async with single(database_url(settings())) as conn:
        return await fn(conn)


def _read_password(args: argparse.Namespace) -> tuple[str, bool]:
    """The new password: generated, one line of stdin (``--password-stdin`` or no terminal),
    or asked twice on the terminal."""
    from api.security import MIN_PASSWORD, new_password

    if args.generate:
        return new_password(), True
    if args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ConfigError(
                "no password on standard input: pipe one line"
                f" (printf '%s\\n' \"$PASSWORD\" | uchet accounts set-password {args.account}),"
                " run it on a terminal, or pass --generate"
            )
    else:
        try:
            password = getpass.getpass("новый пароль: ")
            again = getpass.getpass("ещё раз: ")
        except EOFError:
            raise ConfigError(
                "no password given; pipe one with --password-stdin or pass --generate"
            ) from None
        if again != password:
            raise ConfigError("the passwords differ")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"a password needs at least {MIN_PASSWORD} characters")
    return password, False


def cmd_set_password(args: argparse.Namespace) -> int:
    from api.auth_db import set_password
    from api.security import hash_password

    password, generated = _read_password(args)
    hashed = hash_password(password)
    if not asyncio.run(_with_conn(lambda c: set_password(c, args.account, hashed))):
        raise UchetError(f"no premise has account {args.account!r} (load it first: uchet load)")
    print(f"пароль задан для лицевого счёта {args.account}")
    if generated:
        print(f"пароль: {password}")
    return 0


def cmd_create_key(args: argparse.Namespace) -> int:
    from api.auth_db import create_api_key

    key_id, key = asyncio.run(
        _with_conn(lambda c: create_api_key(c, name=args.name, role=args.role))
    )
    print(f"API-ключ {key_id} ({args.role}, {args.name}); показан один раз, храните его в тайне:")
    print(key)
    return 0


def cmd_list_keys(args: argparse.Namespace) -> int:
    from api.auth_db import list_api_keys
    from api.commands.readings import local_zone

    tz = local_zone()
    for k in asyncio.run(_with_conn(list_api_keys)):
        state = f"отозван {k.revoked_at.astimezone(tz):%d.%m.%Y}" if k.revoked_at else "действует"
        print(f"{k.id}\t{k.role}\t{k.name}\tсоздан {k.created_at.astimezone(tz):%d.%m.%Y}\t{state}")
    return 0


def cmd_revoke_key(args: argparse.Namespace) -> int:
    from api.auth_db import revoke_api_key

    if not asyncio.run(_with_conn(lambda c: revoke_api_key(c, args.id))):
        raise UchetError(f"no active api key {args.id}")
    print(f"API-ключ {args.id} отозван")
    return 0

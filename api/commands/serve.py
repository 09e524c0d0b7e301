"""``uchet api``: serves the HTTP API with uvicorn."""

from __future__ import annotations

import argparse

from core.errors import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("api", help="запустить HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_api)


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from api.app import create_app
    from api.runtime import database_url, settings, settle_heap
    from api.settings import ApiSettings

    try:
        api_settings = ApiSettings()
    except ValidationError as exc:
        raise ConfigError(f"API settings: {exc.errors()[0]['msg']}") from None
    app = create_app(database_url(settings()), settings=api_settings)
    settle_heap()
    # access_log off: URLs carry meter ids and the log would tie them to client addresses.
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    return 0

"""``uchet mqtt try``: what the gateway would do with one MQTT message (a dry run).

Like Telegraf's ``--test``: the message goes through the same decoding as in the gateway
(:meth:`adapters.mqtt.MqttSource.decode_into`, with the configured or given mappings) and the
store-free checks of intake (negative value, future or too old time, value ceiling). Nothing
is stored and no broker is needed. The checks that need the store (register rollback against
the last stored value, ``UCHET_UNKNOWN_METERS=quarantine``) are named, not run.

Only the standard library is imported up front: ``uchet --help`` stays light.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

STORE_ONLY = "register rollback against the last stored value; unknown_meters=quarantine"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mqtt = sub.add_parser("mqtt", help="сообщения MQTT: проверить сообщение по сопоставлениям")
    msub = mqtt.add_subparsers(dest="mqtt_command", metavar="ACTION", required=True)
    try_ = msub.add_parser(
        "try",
        help="что шлюз сохранил бы или отправил в карантин из одного сообщения (без записи)",
        description="Разбирает одно сообщение MQTT так же, как шлюз, и выводит каждое"
        " показание, которое он сохранил бы, и каждую запись, которую отправил бы в карантин,"
        " с причиной и сработавшим сопоставлением. Хранилище не используется, брокер — только"
        " с --subscribe.",
    )
    try_.add_argument(
        "--topic", required=True, help="топик MQTT сообщения (с --subscribe: фильтр топиков)"
    )
    what = try_.add_mutually_exclusive_group(required=True)
    what.add_argument("--payload", help="содержимое сообщения текстом")
    what.add_argument(
        "--payload-file", help="прочитать содержимое сообщения из файла ('-': стандартный ввод)"
    )
    what.add_argument(
        "--subscribe",
        type=float,
        metavar="SECONDS",
        help="слушать --topic на UCHET_MQTT_URL (или --url) столько секунд (и сохранённые"
        " сообщения тоже; QoS 0, чистая сессия: очередь шлюза не затрагивается) и проверить"
        " каждое сообщение",
    )
    try_.add_argument("--url", help="брокер для --subscribe (по умолчанию: UCHET_MQTT_URL)")
    try_.add_argument(
        "--mappings",
        help="как в UCHET_MQTT_MAPPINGS (JSON в строке, имена или путь); по умолчанию: из настроек",
    )
    try_.add_argument(
        "--received",
        help="время получения, ISO 8601 со смещением (по умолчанию: сейчас)",
        default=None,
    )
    try_.add_argument("--json", action="store_true", help="по объекту JSON на строку")
    try_.set_defaults(func=_try)


def _payload(args: argparse.Namespace) -> bytes:
    from core.errors import ConfigError

    if args.payload is not None:
        return str(args.payload).encode()
    if args.payload_file == "-":
        return sys.stdin.buffer.read()
    try:
        with open(args.payload_file, "rb") as f:
            return f.read()
    except OSError as exc:
        raise ConfigError(f"--payload-file: cannot read {args.payload_file}: {exc}") from exc


def _received(text: str | None) -> datetime:
    from core.errors import ConfigError

    if text is None:
        return datetime.now(UTC)
    try:
        ts = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"--received {text!r} is not ISO 8601") from exc
    if ts.tzinfo is None:
        raise ConfigError(f"--received {text!r} has no UTC offset")
    return ts.astimezone(UTC)


def dry_run(
    topic: str, payload: bytes, *, mappings_setting: str | None, received: datetime
) -> list[dict[str, Any]]:
    """What the gateway would do with the message: one dict per stored or quarantined entry."""
    from adapters.mqtt import MqttSource
    from api.runtime import settings
    from core.batch import EPOCH, NO_END, Columns
    from core.codes import Reason
    from core.validation import check_register
    from ingest.gateway import load_mappings

    s = settings()
    if mappings_setting is not None:
        s = s.model_copy(update={"mqtt_mappings": mappings_setting})
    mappings = load_mappings(s)
    source = MqttSource(
        "mqtt://127.0.0.1", _no_submit, topic_prefix=s.mqtt_topic_prefix, mappings=mappings
    )
    matched = next((m.name for m in mappings if _fits(m.topic, topic)), None)
    via = f"mapping {matched}" if matched else f"canonical ({s.mqtt_topic_prefix}/...)"
    out = Columns()
    source.decode_into(topic, payload, received, out)
    result: list[dict[str, Any]] = []
    future = received + timedelta(seconds=s.clock_tolerance_s)
    too_old = received - timedelta(days=s.backfill_days)
    for i in range(len(out.ts)):
        ts = EPOCH + timedelta(microseconds=out.ts[i])
        value = out.value[i]
        entry: dict[str, Any] = {
            "meter": out.meter[i],
            "channel": out.channel[i],
            "ts": ts.isoformat(),
            "value": value,
            "via": via,
        }
        if out.end[i] != NO_END:
            entry["end"] = (EPOCH + timedelta(microseconds=out.end[i])).isoformat()
        reason, detail = None, ""
        verdict = check_register(value, ts, None)
        if verdict.reason is not None:
            reason, detail = verdict.reason, verdict.detail
        elif ts > future:
            reason, detail = Reason.FUTURE_TIMESTAMP, f"ts is after {future.isoformat()}"
        elif ts < too_old:
            reason, detail = Reason.TOO_OLD, f"ts is before {too_old.isoformat()}"
        elif value > s.value_ceiling:
            reason, detail = Reason.VALUE_TOO_LARGE, f"value above {s.value_ceiling:g}"
        if reason is None:
            result.append({"action": "store", **entry, "unchecked": STORE_ONLY})
        else:
            result.append(
                {"action": "quarantine", "reason": str(reason), "detail": detail, **entry}
            )
    for r in out.rejected:
        result.append(
            {
                "action": "quarantine",
                "reason": str(r.reason),
                "detail": r.detail,
                "meter": r.meter,
                "channel": r.channel,
                "payload": r.payload.decode("utf-8", "replace"),
                "via": via,
            }
        )
    return result


async def _no_submit(*_: object) -> None:  # pragma: no cover - never called by a dry run
    raise AssertionError("a dry run submits nothing")


def _fits(filter_: str, topic: str) -> bool:
    import aiomqtt

    return aiomqtt.Topic(topic).matches(filter_)


async def _listen(
    url: str, filter_: str, seconds: float, ca_file: str | None = None
) -> list[tuple[str, bytes]]:
    """The messages (retained ones too) on ``filter_`` within ``seconds``."""
    import asyncio
    import contextlib
    import os
    import ssl

    import aiomqtt

    from adapters.mqtt import BrokerAddress
    from core.errors import ConfigError

    address = BrokerAddress.parse(url)
    got: list[tuple[str, bytes]] = []

    async def collect(client: aiomqtt.Client) -> None:
        async for msg in client.messages:
            payload = msg.payload if isinstance(msg.payload, bytes) else str(msg.payload).encode()
            got.append((msg.topic.value, payload))

    try:
        async with aiomqtt.Client(
            address.host,
            address.port,
            username=address.username,
            password=address.password,
            identifier=f"uchet-mqtt-try-{os.getpid()}",
            tls_context=ssl.create_default_context(cafile=ca_file) if address.tls else None,
        ) as client:
            await client.subscribe(filter_, qos=0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(collect(client), seconds)
    except aiomqtt.MqttError as exc:
        raise ConfigError(f"--subscribe: broker {address.host}:{address.port}: {exc}") from exc
    return got


def _messages(args: argparse.Namespace) -> list[tuple[str, bytes]]:
    if args.subscribe is None:
        return [(args.topic, _payload(args))]
    import asyncio

    from api.runtime import settings
    from core.errors import ConfigError

    s = settings()
    url = args.url or s.mqtt_url
    if not url:
        raise ConfigError("--subscribe needs a broker: --url or UCHET_MQTT_URL")
    ca_file = str(s.mqtt_ca_file) if s.mqtt_ca_file else None
    return asyncio.run(_listen(url, args.topic, args.subscribe, ca_file))


def _try(args: argparse.Namespace) -> int:
    received = _received(args.received)
    messages = _messages(args)
    entries: list[dict[str, Any]] = []
    for topic, payload in messages:
        found = dry_run(topic, payload, mappings_setting=args.mappings, received=received)
        if args.subscribe is not None:
            found = [{"topic": topic, **e} for e in found]
            if not args.json:
                print(f"# {topic}")
        _print(found, as_json=args.json)
        entries += found
    if args.subscribe is not None and not messages:
        print(f"no message on {args.topic} in {args.subscribe:g} s", file=sys.stderr)
    if not args.json and any(e["action"] == "store" for e in entries):
        print(f"not checked without the store: {STORE_ONLY}")
    return 0 if any(e["action"] == "store" for e in entries) else 1


def _print(entries: list[dict[str, Any]], *, as_json: bool) -> None:
    for e in entries:
        if as_json:
            print(json.dumps(e, ensure_ascii=False))
        elif e["action"] == "store":
            print(f"store       {e['meter']} {e['channel']} {e['ts']} {e['value']!r}  [{e['via']}]")
        else:
            who = "".join(f" {e[k]}" for k in ("meter", "channel") if e.get(k))
            print(f"quarantine  {e['reason']}: {e['detail']}{who}  [{e['via']}]")

"""MQTT source (aiomqtt): subscribes to meter topics and feeds decoded readings to a sink.

Exactly-once into the store with QoS 1: a persistent session (stable client id, clean start
off, session expiry), and each message is acknowledged (PUBACK) only after the batch holding
it is committed. aiomqtt 2.x has no manual acknowledgements (its issue #345), so this module
uses the paho-level workaround: ``manual_ack_set(True)`` on the underlying paho client and
``ack(mid, qos)`` from the commit callback. A message received before a reconnect is never
acknowledged on the new connection (packet ids are per connection); the broker redelivers it
and the store counts it as a duplicate. Unacknowledged messages also bound memory: the broker
sends at most ``Receive Maximum`` of them before it waits for acks — and should a broker send
more, :class:`adapters.mqtt_intake.IntakeGate` stops reading the socket at that many.

Broker limits matter: Mosquitto keeps at most ``max_queued_messages`` (default 1000) queued
messages per offline or slow persistent client and drops the rest; raise it for a gateway.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import aiomqtt
import orjson
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from adapters.mqtt_intake import IntakeGate
from adapters.paho_tables import share_property_tables
from core.batch import Columns, FastDecoder
from core.codes import Reason
from core.errors import ConfigError
from core.payload import Decoded, Mapping, Rejected, decode_mapped
from ingest.backoff import Backoff

log = logging.getLogger(__name__)
share_property_tables()  # paho rebuilt them for every message (adapters/paho_tables.py)

Submit = Callable[[Columns | Sequence[Decoded], Callable[[], None] | None], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ConfigError(f"UCHET_MQTT_URL {url!r}: expected mqtt://host:port or mqtts://")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


def topic_filters(prefix: str, shared_group: str | None) -> list[str]:
    """``<prefix>/<meter>/readings`` for one meter, ``<prefix>/readings`` for mixed arrays."""
    bases = [f"{prefix}/+/readings", f"{prefix}/readings"]
    return [f"$share/{shared_group}/{b}" if shared_group else b for b in bases]


def _matches(filter_: str, topic: str) -> bool:
    return aiomqtt.Topic(topic).matches(filter_)


class MqttSource:
    """Runs until cancelled: connects, subscribes, reconnects with backoff."""

    def __init__(
        self,
        url: str,
        submit: Submit,
        *,
        client_id: str = "uchet-gateway",
        topic_prefix: str = "meters",
        shared_group: str | None = None,
        qos: int = 1,
        mappings: Sequence[Mapping] = (),
        receive_maximum: int = 5_000,
        burst: int = 10_000,
        protocol: str = "5",
        request_flush: Callable[[], None] | None = None,
        ca_file: str | None = None,
    ) -> None:
        self.address = BrokerAddress.parse(url)
        self.submit = submit
        self.client_id = client_id
        self.prefix = topic_prefix
        self.shared_group = shared_group
        self.qos = qos
        self.mappings = list(mappings)
        self.receive_maximum = max(1, min(receive_maximum, 65_535))
        self.burst = burst
        self.v5 = protocol == "5"
        self._decoder = FastDecoder("mqtt")
        self._prefix_levels = topic_prefix.count("/") + 1
        self.request_flush = request_flush
        self.ca_file = ca_file
        self.unacked = 0  # messages of this connection awaiting their commit
        self.connected = False
        self.received = 0
        self._generation = 0
        self._client: aiomqtt.Client | None = None
        self._paused = asyncio.Event()
        self.subscribed = asyncio.Event()  # set once the first subscription is in place

    def stop_intake(self) -> None:
        """Stops taking messages; the connection stays up so pending acks still go out."""
        self._paused.set()

    def _make_client(self) -> aiomqtt.Client:
        tls = ssl.create_default_context(cafile=self.ca_file) if self.address.tls else None
        common = {
            "username": self.address.username,
            "password": self.address.password,
            "identifier": self.client_id,
            "tls_context": tls,
            "keepalive": 30,
            # at most Receive Maximum undecoded messages, even from a broker that sends more
            # (one more than an honest broker can send: it never pauses for one)
            "queue_type": IntakeGate.bounded(self.receive_maximum + 1),
        }
        if self.v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 7 * 24 * 3600
            props.ReceiveMaximum = self.receive_maximum
            client = aiomqtt.Client(
                self.address.host,
                self.address.port,
                protocol=aiomqtt.ProtocolVersion.V5,
                clean_start=False,
                properties=props,
                **common,
            )
        else:  # MQTT 3.1.1: the broker's own in-flight limit bounds unacknowledged messages
            client = aiomqtt.Client(
                self.address.host,
                self.address.port,
                protocol=aiomqtt.ProtocolVersion.V311,
                clean_session=False,
                **common,
            )
        client._client.manual_ack_set(True)  # paho-level manual PUBACK (aiomqtt #345)
        client._queue.client = client  # type: ignore[attr-defined]  # see IntakeGate
        return client

    def _filters(self) -> list[str]:
        filters = topic_filters(self.prefix, self.shared_group)
        for m in self.mappings:
            filters.append(
                f"$share/{self.shared_group}/{m.topic}" if self.shared_group else m.topic
            )
        return filters

    async def run(self) -> None:
        backoff = Backoff(base=0.5, cap=30.0)
        down_since: float | None = None
        while True:
            try:
                async with self._make_client() as client:
                    self._client = client
                    self._generation += 1
                    self.unacked = 0
                    self.connected = True
                    for f in self._filters():
                        await client.subscribe(f, qos=self.qos)
                    self.subscribed.set()
                    if down_since is not None:
                        log.warning(
                            "MQTT broker %s:%d back after %.1f s",
                            self.address.host,
                            self.address.port,
                            time.monotonic() - down_since,
                        )
                        down_since = None
                    else:
                        log.info("MQTT connected to %s:%d", self.address.host, self.address.port)
                    backoff.reset()
                    await self._consume(client)
            except aiomqtt.MqttError as exc:
                self.connected = False
                self._client = None
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning("MQTT broker unavailable, reconnecting with backoff: %s", exc)
                await asyncio.sleep(backoff.next_delay())

    async def _consume(self, client: aiomqtt.Client) -> None:
        queue: asyncio.Queue[aiomqtt.Message] = client._queue
        disconnected = client._disconnected
        generation = self._generation
        while True:
            if self._paused.is_set():
                await disconnected  # hold the connection until cancelled
            getter = asyncio.ensure_future(queue.get())
            try:
                await asyncio.wait({getter, disconnected}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not getter.done():
                    getter.cancel()
            if not getter.done():
                disconnected.result()  # raises the disconnection's MqttError
                raise aiomqtt.MqttError("disconnected")
            # What has arrived, decoded into one envelope of at most ``burst`` readings (and
            # messages): the pipeline's buffer bounds decoded readings, so the rest of a
            # backlog waits undecoded (and unacknowledged, within Receive Maximum).
            items = Columns()
            received = datetime.now(UTC)
            messages = [getter.result()]
            self.decode_into(messages[0].topic.value, messages[0].payload, received, items)
            while len(items) < self.burst and len(messages) < self.burst:
                try:
                    msg = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                messages.append(msg)
                self.decode_into(msg.topic.value, msg.payload, received, items)
            self.received += len(messages)
            mids = [(m.mid, m.qos) for m in messages if m.qos > 0]
            self.unacked += len(mids)
            await self.submit(items, self._acker(client, generation, mids))
            if self.request_flush is not None and self.unacked * 2 >= self.receive_maximum:
                self.request_flush()

    def _acker(
        self, client: aiomqtt.Client, generation: int, mids: list[tuple[int, int]]
    ) -> Callable[[], None] | None:
        if not mids:
            return None

        def ack() -> None:
            if generation != self._generation or not self.connected:
                return  # old connection: the broker redelivers, the store dedups
            for mid, qos in mids:
                client._client.ack(mid, qos)
            self.unacked -= len(mids)

        return ack

    def decode_into(self, topic: str, payload: object, received: datetime, out: Columns) -> None:
        """Decodes one message into ``out`` (bad elements become rejected entries)."""
        raw = payload if isinstance(payload, bytes) else str(payload).encode()
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            out.rejected.append(
                Rejected(Reason.MALFORMED, f"{topic}: not JSON: {exc}", raw, source="mqtt")
            )
            return
        for m in self.mappings:
            if _matches(m.topic, topic):
                out.extend(decode_mapped(obj, m, topic=topic, received=received))
                return
        levels = topic.split("/")
        topic_meter = (
            levels[self._prefix_levels] if len(levels) == self._prefix_levels + 2 else None
        )
        self._decoder.decode(obj, topic_meter=topic_meter, out=out)

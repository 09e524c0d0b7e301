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

Faults the source tells apart and counts (:meth:`MqttSource.health`): a broker that cannot be
reached, a connection lost, a session the broker lost (CONNACK without session-present), and
another client taking the session over with the same client id (it backs off instead of
taking it back at once). A restarted gateway consumes its backlog from CONNACK on, without
waiting for its SUBACK (issue #23: the SUBACK comes after the backlog).
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt
import orjson
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from adapters.mqtt_intake import IntakeGate
from adapters.paho_tables import share_property_tables
from core.backoff import Backoff
from core.batch import Columns, FastDecoder
from core.codes import Reason
from core.errors import ConfigError
from core.payload import Decoded, Mapping, Rejected, decode_mapped, show

log = logging.getLogger(__name__)
share_property_tables()  # paho rebuilt them for every message (adapters/paho_tables.py)

KEEPALIVE_S = 30
SESSION_TAKEN_OVER = 0x8E  # MQTT 5 DISCONNECT reason: another client connected with our id
SHORT_CONNECTION_S = 5.0  # MQTT 3.1.1: a connection ended this soon after CONNACK ...
SHORT_DROPS_FOR_TAKEOVER = 3  # ... this many times in a row is taken for a takeover
TAKEOVER_BACKOFF_S = 5.0  # least wait after a takeover (then jittered, doubling to 5 min)
STABLE_CONNECTION_S = 60.0  # a connection this long resets the takeover backoff

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
    """Runs until cancelled: connects, subscribes, reconnects with backoff.

    Consumption and acknowledgement start at CONNACK: a persistent session already holds the
    subscriptions, and its backlog (the resent in-flight messages and the queued ones) comes
    before any SUBACK, so waiting for the SUBACK would wait behind the backlog (issue #23).
    """

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
        session_expiry_s: int = 7 * 24 * 3600,
        subscribe_patience_s: float = 10.0,
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
        self.session_expiry_s = session_expiry_s
        self.subscribe_patience_s = subscribe_patience_s
        self.unacked = 0  # messages of this connection awaiting their commit
        self.connected = False
        self.received = 0
        self.session_present: bool | None = None  # CONNACK flag of the current connection
        self.lost_sessions = 0  # reconnections that found no session on the broker
        self.takeovers = 0  # disconnections by another client with the same client id
        self.reconnects = 0  # connections after the first
        self.last_error: str | None = None
        self._generation = 0
        self._client: aiomqtt.Client | None = None
        self._paused = asyncio.Event()
        self._disconnect_reason: int | None = None  # MQTT 5 DISCONNECT reason from the broker
        self._short_drops = 0  # consecutive connections the broker ended right after CONNACK
        self.subscribed = asyncio.Event()  # set once the first subscription is confirmed

    def stop_intake(self) -> None:
        """Stops taking messages; the connection stays up so pending acks still go out."""
        self._paused.set()

    def health(self) -> dict[str, object]:
        """The connection's state and fault counters, for a supervisor's report."""
        return {
            "connected": self.connected,
            "session_present": self.session_present,
            "subscribed": self.subscribed.is_set(),
            "lost_sessions": self.lost_sessions,
            "takeovers": self.takeovers,
            "reconnects": self.reconnects,
            "received": self.received,
            "unacked": self.unacked,
            "last_error": self.last_error,
        }

    def _make_client(self) -> aiomqtt.Client:
        tls = ssl.create_default_context(cafile=self.ca_file) if self.address.tls else None
        common = {
            "username": self.address.username,
            "password": self.address.password,
            "identifier": self.client_id,
            "tls_context": tls,
            "keepalive": KEEPALIVE_S,
            # at most Receive Maximum undecoded messages, even from a broker that sends more
            # (one more than an honest broker can send: it never pauses for one)
            "queue_type": IntakeGate.bounded(self.receive_maximum + 1),
        }
        if self.v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self.session_expiry_s
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
        paho = client._client
        paho.manual_ack_set(True)  # paho-level manual PUBACK (aiomqtt #345)
        client._queue.attach(client)  # type: ignore[attr-defined]  # see IntakeGate
        self._observe(paho)
        return client

    def _observe(self, paho: Any) -> None:
        """Records CONNACK's session-present flag and the broker's DISCONNECT reason."""
        on_connect, on_disconnect = paho.on_connect, paho.on_disconnect

        def connected(c: Any, userdata: Any, flags: Any, reason: Any, props: Any = None) -> None:
            self.session_present = bool(flags.session_present)
            on_connect(c, userdata, flags, reason, props)

        def disconnected(c: Any, userdata: Any, flags: Any, reason: Any, props: Any = None) -> None:
            if getattr(flags, "is_disconnect_packet_from_server", False):
                self._disconnect_reason = getattr(reason, "value", None)
            on_disconnect(c, userdata, flags, reason, props)

        paho.on_connect, paho.on_disconnect = connected, disconnected

    def _filters(self) -> list[str]:
        filters = topic_filters(self.prefix, self.shared_group)
        for m in self.mappings:
            filters.append(
                f"$share/{self.shared_group}/{m.topic}" if self.shared_group else m.topic
            )
        return filters

    async def run(self) -> None:
        backoff = Backoff(base=0.5, cap=30.0)
        takeover_backoff = Backoff(base=TAKEOVER_BACKOFF_S, cap=300.0)
        down_since: float | None = None
        while True:
            self._disconnect_reason = None
            since: float | None = None
            try:
                async with self._make_client() as client:
                    since = time.monotonic()
                    self._connected(client, down_since)
                    down_since = None
                    backoff.reset()
                    subscriber = asyncio.create_task(self._subscribe(client))
                    try:
                        await self._consume(client, subscriber)
                    finally:
                        subscriber.cancel()
                        self.connected = False
            except aiomqtt.MqttError as exc:
                self.connected = False
                self._client = None
                self.last_error = str(exc) or type(exc).__name__
                lasted = time.monotonic() - since if since is not None else None
                if self._taken_over(lasted):
                    await asyncio.sleep(takeover_backoff.next_delay() + TAKEOVER_BACKOFF_S)
                    continue
                if lasted is not None and lasted > STABLE_CONNECTION_S:
                    takeover_backoff.reset()
                if down_since is None:
                    down_since = time.monotonic()
                    if lasted is None:
                        log.warning("MQTT broker unavailable, reconnecting with backoff: %s", exc)
                    else:
                        log.warning(
                            "MQTT connection lost after %.1f s, reconnecting with backoff: %s",
                            lasted,
                            exc,
                        )
                await asyncio.sleep(backoff.next_delay())

    def _connected(self, client: aiomqtt.Client, down_since: float | None) -> None:
        first = self._generation == 0
        self._client = client
        self._generation += 1
        self.unacked = 0
        self.connected = True
        where = (self.address.host, self.address.port, self.client_id)
        if not first:
            self.reconnects += 1
        if self.session_present is False and self.qos > 0:
            if first:
                log.info(
                    "MQTT %s:%d has no session for client id %r: a first start, or the broker"
                    " lost it (then what it had queued for this gateway is gone)",
                    *where,
                )
            else:
                self.lost_sessions += 1
                log.error(
                    "MQTT %s:%d lost the session of client id %r (broker restarted without"
                    " persistence, or the session expired): messages it had queued for this"
                    " gateway are gone; lost sessions so far: %d",
                    *where,
                    self.lost_sessions,
                )
        if down_since is not None:
            log.warning(
                "MQTT broker %s:%d back after %.1f s",
                self.address.host,
                self.address.port,
                time.monotonic() - down_since,
            )
        elif first:
            log.info("MQTT connected to %s:%d", self.address.host, self.address.port)

    def _taken_over(self, lasted: float | None) -> bool:
        """Whether another client with our client id ended this connection (and log it).

        An MQTT 5 broker may say so (DISCONNECT 0x8E, "Session taken over"); Mosquitto 2.0.11
        just closes the socket, for MQTT 5 as for 3.1.1 (measured), so repeated drops right
        after a successful CONNACK are taken as the same cause (a crashing or restarting
        broker refuses the reconnection instead, which is logged as the broker's fault).
        """
        if self._disconnect_reason == SESSION_TAKEN_OVER:
            suspected = False
        elif lasted is not None and lasted < SHORT_CONNECTION_S:
            self._short_drops += 1
            if self._short_drops < SHORT_DROPS_FOR_TAKEOVER:
                return False
            suspected = True
        else:
            self._short_drops = 0
            return False
        self._short_drops = 0
        self.takeovers += 1
        self.last_error = f"client id {self.client_id!r} taken over"
        log.warning(
            "MQTT %s another client is using client id %r on %s:%d (two gateways with one"
            " client id take the session from each other: give each its own"
            " UCHET_MQTT_CLIENT_ID); backing off; takeovers so far: %d",
            "(suspected, repeated drops after CONNACK):" if suspected else "session taken over:",
            self.client_id,
            self.address.host,
            self.address.port,
            self.takeovers,
        )
        return True

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        """Subscribes to every filter in one SUBSCRIBE, without a deadline on the SUBACK.

        The SUBACK of a session with a backlog comes after it: a slow SUBACK while messages
        arrive is not a dead broker (a dead one is found by the keepalive). Only a broker that
        sends nothing at all for the whole patience is given up on.
        """
        filters = self._filters()
        gate: IntakeGate = client._queue  # type: ignore[assignment]
        waiter = asyncio.ensure_future(
            client.subscribe([(f, self.qos) for f in filters], timeout=math.inf)
        )
        try:
            while True:
                arrived = gate.arrived
                done, _ = await asyncio.wait({waiter}, timeout=self.subscribe_patience_s)
                if done:
                    break
                if gate.arrived == arrived and not gate.paused and not gate.qsize():
                    raise aiomqtt.MqttError(
                        f"no SUBACK and no message in {self.subscribe_patience_s:.0f} s"
                    )
                log.info(
                    "MQTT subscription not yet confirmed: the session's backlog comes first"
                    " (%d messages received on this connection)",
                    gate.arrived,
                )
        finally:
            waiter.cancel()
        codes = waiter.result()
        for f, code in zip(filters, codes, strict=False):
            value = getattr(code, "value", code)
            if isinstance(value, int) and value >= 0x80:
                self.last_error = f"subscription to {f} refused: {code}"
                log.error("MQTT broker refused the subscription to %s: %s", f, code)
        self.subscribed.set()

    async def _consume(self, client: aiomqtt.Client, subscriber: asyncio.Task[None]) -> None:
        queue: asyncio.Queue[aiomqtt.Message] = client._queue
        disconnected = client._disconnected
        generation = self._generation
        while True:
            if self._paused.is_set():
                await disconnected  # hold the connection until cancelled
            getter = asyncio.ensure_future(queue.get())
            watched: set[asyncio.Future[Any]] = {getter, disconnected}
            if not subscriber.done() or subscriber.exception() is not None:
                watched.add(subscriber)
            try:
                await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not getter.done():
                    getter.cancel()
            if not getter.done():
                if disconnected.done():
                    disconnected.result()  # raises the disconnection's MqttError
                    raise aiomqtt.MqttError("disconnected")
                subscriber.result()  # raises a subscription failure
                continue
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
        """Decodes one message into ``out`` (bad elements become rejected entries).

        Never raises: a failure the decoders do not name rejects the whole message, with its
        raw payload, so one message can never stop intake.
        """
        raw = payload if isinstance(payload, bytes) else str(payload).encode()
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if any(_matches(m.topic, topic) for m in self.mappings):
                obj = raw.decode("utf-8", "replace")  # a plain-text topic value ("ON")
            else:
                out.rejected.append(
                    Rejected(
                        Reason.MALFORMED, f"{show(topic)}: not JSON: {exc}", raw, source="mqtt"
                    )
                )
                return
        mark = len(out.rejected), len(out.ts)
        try:
            matched = next((m for m in self.mappings if _matches(m.topic, topic)), None)
            if matched is not None:
                out.extend(decode_mapped(obj, matched, topic=topic, received=received, raw=raw))
            else:
                levels = topic.split("/")
                topic_meter = (
                    levels[self._prefix_levels] if len(levels) == self._prefix_levels + 2 else None
                )
                self._decoder.decode(obj, topic_meter=topic_meter, out=out)
            if (len(out.rejected), len(out.ts)) == mark:  # nothing stored, nothing refused
                by = f"mapping {matched.name}" if matched is not None else "the canonical format"
                out.rejected.append(
                    Rejected(
                        Reason.NO_READING,
                        f"topic {show(topic, 200)}: no value {by} knows in the message",
                        raw,
                        source="mqtt",
                    )
                )
        except Exception as exc:  # a decoder bug must not stop intake: keep the message
            log.exception("MQTT message on %s could not be decoded; quarantined", show(topic))
            _truncate(out, *mark)
            out.rejected.append(
                Rejected(
                    Reason.MALFORMED,
                    f"{show(topic)}: cannot decode: {type(exc).__name__}",
                    raw,
                    source="mqtt",
                )
            )


def _truncate(out: Columns, rejected: int, rows: int) -> None:
    """Drops what a failed message added to ``out`` (its rows and rejections)."""
    del out.rejected[rejected:]
    columns = (out.source, out.meter, out.channel, out.ts, out.value, out.kind, out.flags, out.end)
    for column in columns:
        del column[rows:]

"""Bounds the messages an MQTT connection holds undecoded, whatever the broker sends.

A gateway asks for at most ``Receive Maximum`` unacknowledged messages, but it cannot rely on
the broker: Mosquitto 2.0.11 (Debian 12) keeps to it only while no acknowledgements flow.
Measured here: a client with Receive Maximum 100 acknowledging in groups of 10 had 14,350
messages outstanding; the gateway (Receive Maximum 5,000) under a 6x overload had 33,000
queued while 1,400 were unacknowledged; a client with Receive Maximum 100 that acknowledged
50 of its first 100 was sent 200 more. aiomqtt queues whatever paho reads, so memory grew
without bound (86 -> 660 MiB in 30 s). The broker's in-flight list is as long on a restart
with the same session: it resends all of it right after CONNACK, before any SUBACK.

:class:`IntakeGate` is the queue aiomqtt puts messages into (its ``queue_type``): past a
high-water mark it stops reading the socket, so TCP flow control holds the rest in the broker;
when the consumer has taken the queue down to the low-water mark, reading resumes. The mark
is one above Receive Maximum, so a broker that keeps to the quota never causes a pause.

Control packets: one TCP stream carries the data and the broker's replies, in order, so a
reply queued behind data can only be read by reading that data. The gate therefore
(1) never holds back a reply the client waits for while it can take more: whenever a SUBACK,
UNSUBACK or PINGRESP is awaited it reads on up to twice the mark (its hard bound), and resumes
at once when the client sends a SUBSCRIBE, UNSUBSCRIBE or PINGREQ while paused;
(2) leaves the rest to the consumer, which must not wait for those replies itself
(``adapters.mqtt`` consumes and acknowledges from CONNACK on; the SUBACK comes when the backlog
before it is read). CONNACK is the first packet of a connection: nothing precedes it. PUBREL
belongs to QoS 2, which the gateway does not subscribe with. If the consumer makes no progress
for longer than the keepalive (the store is down) and a PINGRESP lies beyond the hard bound,
paho drops the connection; the unacknowledged messages are redelivered on the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiomqtt

log = logging.getLogger(__name__)

_REPLIED_SENDS = ("_send_pingreq", "_send_subscribe", "_send_unsubscribe")


class IntakeGate(asyncio.Queue[aiomqtt.Message]):
    """aiomqtt's incoming queue that pauses the socket reader at ``high`` messages."""

    high = 5_000
    client: aiomqtt.Client | None = None
    paused = False
    arrived = 0  # messages put into the queue on this connection

    @classmethod
    def bounded(cls, high: int) -> type[IntakeGate]:
        """A queue class (aiomqtt instantiates it) that pauses at ``high`` messages."""
        return type("IntakeGate", (cls,), {"high": max(1, high)})

    def attach(self, client: aiomqtt.Client) -> None:
        """Binds the gate to its client and learns when the client expects a reply."""
        self.client = client
        paho = client._client
        for name in _REPLIED_SENDS:
            setattr(paho, name, self._then_expect_reply(getattr(paho, name)))

    def _then_expect_reply(self, send: Callable[..., Any]) -> Callable[..., Any]:
        def sent(*args: Any, **kwargs: Any) -> Any:
            rc = send(*args, **kwargs)
            # aiomqtt registers a pending SUBSCRIBE only after paho returns: check after it
            asyncio.get_running_loop().call_soon(self._reply_expected)
            return rc

        return sent

    def put_nowait(self, item: aiomqtt.Message) -> None:
        super().put_nowait(item)
        self.arrived += 1
        if not self.paused and self.qsize() >= self.high and not self._reply_allowance():
            self._pause()

    def get_nowait(self) -> aiomqtt.Message:
        item = super().get_nowait()
        if self.paused and (self.qsize() <= self.high // 2 or self._reply_allowance()):
            self._resume()
        return item

    def awaiting_reply(self) -> bool:
        """Whether the client waits for a SUBACK, UNSUBACK or PINGRESP."""
        client = self.client
        if client is None:
            return False
        return bool(
            client._pending_subscribes
            or client._pending_unsubscribes
            or getattr(client._client, "_ping_t", 0)
        )

    def _reply_allowance(self) -> bool:
        return self.qsize() < 2 * self.high and self.awaiting_reply()

    def _reply_expected(self) -> None:
        if self.paused and self._reply_allowance():
            log.debug("MQTT intake reads on for a reply at %d undecoded messages", self.qsize())
            self._resume()

    def _socket(self) -> Any:
        paho = self.client._client if self.client is not None else None
        return paho.socket() if paho is not None else None

    def _pause(self) -> None:
        sock = self._socket()
        if sock is None:
            return
        asyncio.get_running_loop().remove_reader(sock.fileno())
        self.paused = True
        log.debug("MQTT intake paused at %d undecoded messages", self.qsize())

    def _resume(self) -> None:
        self.paused = False
        sock = self._socket()
        if sock is not None and sock.fileno() >= 0:
            asyncio.get_running_loop().add_reader(sock.fileno(), self._read)

    def _read(self) -> None:
        """What aiomqtt's own reader does: let paho read; a failure ends the connection."""
        client = self.client
        assert client is not None
        paho = client._client
        try:
            while True:
                paho.loop_read()
                pending = getattr(paho._sock, "pending", None)
                if pending is None or pending() == 0:  # TLS: decoded bytes may be left
                    break
        except Exception as exc:  # as aiomqtt: a broken socket is a disconnection
            if not client._disconnected.done():
                client._disconnected.set_exception(exc)

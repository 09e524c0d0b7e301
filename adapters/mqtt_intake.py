"""Bounds the messages an MQTT connection holds undecoded, whatever the broker sends.

A gateway asks for at most ``Receive Maximum`` unacknowledged messages, but it cannot rely on
the broker: Mosquitto 2.0.11 (Debian 12) keeps to it only while no acknowledgements flow.
Measured here: a client with Receive Maximum 100 acknowledging in groups of 10 had 14,350
messages outstanding; the gateway (Receive Maximum 5,000) under a 6x overload had 33,000
queued while 1,400 were unacknowledged. aiomqtt queues whatever paho reads, so memory grew
without bound (86 -> 660 MiB in 30 s).

:class:`IntakeGate` is the queue aiomqtt puts messages into (its ``queue_type``): past a
high-water mark it stops reading the socket, so TCP flow control holds the rest in the broker;
when the consumer has taken the queue down to the low-water mark, reading resumes. While
paused, nothing else is read either (a PINGRESP waits): the gateway keeps acknowledging, so
paho sends no PINGREQ unless the store is down for longer than the keepalive, and then the
connection is dropped and made anew, with the unacknowledged messages redelivered. The mark
is one above Receive Maximum, so a broker that keeps to the quota never causes a pause.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiomqtt

log = logging.getLogger(__name__)


class IntakeGate(asyncio.Queue[aiomqtt.Message]):
    """aiomqtt's incoming queue that pauses the socket reader at ``high`` messages."""

    high = 5_000
    client: aiomqtt.Client | None = None
    paused = False

    @classmethod
    def bounded(cls, high: int) -> type[IntakeGate]:
        """A queue class (aiomqtt instantiates it) that pauses at ``high`` messages."""
        return type("IntakeGate", (cls,), {"high": max(1, high)})

    def put_nowait(self, item: aiomqtt.Message) -> None:
        super().put_nowait(item)
        if not self.paused and self.qsize() >= self.high:
            self._pause()

    def get_nowait(self) -> aiomqtt.Message:
        item = super().get_nowait()
        if self.paused and self.qsize() <= self.high // 2:
            self._resume()
        return item

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

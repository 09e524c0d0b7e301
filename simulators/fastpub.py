"""A minimal MQTT 3.1.1 publisher over asyncio streams, for load generation.

Pre-encodes PUBLISH packets and pipelines them, reading PUBACKs concurrently with a window of
unacknowledged messages; costs a few microseconds a message, so it is not the bottleneck of a
benchmark (aiomqtt publishes ~14k/s QoS 0 here, mosquitto_pub -l drops messages at QoS 1).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Iterable


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _utf8(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def connect_packet(client_id: str, keepalive: int = 60) -> bytes:
    body = _utf8("MQTT") + bytes([4, 0x02]) + struct.pack("!H", keepalive) + _utf8(client_id)
    return b"\x10" + _remaining_length(len(body)) + body


def publish_packet(topic: str, payload: bytes, qos: int, mid: int) -> bytes:
    body = _utf8(topic) + (struct.pack("!H", mid) if qos else b"") + payload
    return bytes([0x30 | (qos << 1)]) + _remaining_length(len(body)) + body


async def publish_fast(
    host: str,
    port: int,
    messages: Iterable[tuple[str, bytes]],
    *,
    qos: int = 1,
    window: int = 1000,
    client_id: str = "uchet-fastpub",
    rate: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Publishes every message; returns the count once all QoS 1 messages are acknowledged.

    ``rate``: messages per second to pace at (default: as fast as possible); ``progress`` is
    called with the number sent so far every 256 messages.
    """
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(connect_packet(client_id))
    connack = await reader.readexactly(4)
    if connack[0] != 0x20 or connack[3] != 0:
        raise ConnectionError(f"CONNACK refused: {connack!r}")
    slots = asyncio.Semaphore(window)
    acked = 0
    sent = 0
    done = asyncio.Event()

    async def read_acks() -> None:
        nonlocal acked
        while True:
            head = await reader.readexactly(2)
            body = await reader.readexactly(head[1])
            if head[0] == 0x40:  # PUBACK
                acked += 1
                slots.release()
                if done.is_set() and acked == sent:
                    return
            del body

    acks = asyncio.create_task(read_acks()) if qos else None
    mid = 0
    loop = asyncio.get_running_loop()
    started = loop.time()
    for topic, payload in messages:
        mid = mid % 65535 + 1
        if qos:
            await slots.acquire()
        writer.write(publish_packet(topic, payload, qos, mid))
        sent += 1
        if sent % 256 == 0:
            await writer.drain()
            if progress is not None:
                progress(sent)
            if rate:
                ahead = started + sent / rate - loop.time()
                if ahead > 0:
                    await asyncio.sleep(ahead)
    await writer.drain()
    done.set()
    if acks is not None:
        if acked < sent:
            await acks
        else:
            acks.cancel()
    writer.write(b"\xe0\x00")  # DISCONNECT
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    return sent

"""Real local receivers for the notification tests: an aiosmtpd SMTP server and a webhook
receiver (http.server in a thread) that checks signatures and dedupes by idempotency key."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from core.notify.signing import IDEMPOTENCY_KEY, SIGNATURE, TIMESTAMP, verify


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # RCPT answered 550 (a bounce)
    busy: set[str] = field(default_factory=set)  # RCPT answered 450 (try later)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address in self.busy:
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


@contextmanager
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@dataclass
class Receiver:
    secret: bytes
    fail_with: int | None = None  # answer every request with this status
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)  # every valid request
    delivered: dict[str, dict[str, Any]] = field(default_factory=dict)  # deduped by key
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def webhook_receiver(secret: bytes) -> Iterator[tuple[str, Receiver]]:
    rec = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers["Content-Length"]))
            ok = verify(
                rec.secret, self.headers[TIMESTAMP], data, self.headers[SIGNATURE],
                int(time.time()),
            )  # fmt: skip
            if rec.delay:
                time.sleep(rec.delay)
            with rec.lock:
                if not ok:
                    rec.bad_signatures += 1
                    status = 401
                elif rec.fail_with:
                    status = rec.fail_with
                else:
                    body = json.loads(data)
                    rec.requests.append(body)
                    rec.delivered.setdefault(self.headers[IDEMPOTENCY_KEY], body)
                    status = 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", rec
    finally:
        server.shutdown()
        server.server_close()

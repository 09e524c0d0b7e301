"""E-mail over SMTP with aiosmtplib: STARTTLS and auth when configured, connections kept
open and reused (several at once to go faster), a deterministic Message-ID
(``<idempotency key@domain>``) so a message re-sent after a crash is recognisable as the same
one. A 5xx refusal of the recipient (RCPT or DATA) is a bounce."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from email.header import Header
from email.utils import formatdate

import aiosmtplib

from adapters.notify.base import SendFailed
from adapters.store.outbox import Message


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "uchet@localhost"  # From:
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2] or "localhost"


def build(message: Message, config: SmtpConfig) -> bytes:
    """The message as sent: multipart/alternative (plain text, HTML), UTF-8 in base64, the
    subject as RFC 2047 encoded words. Written out directly: the stdlib's EmailMessage and its
    generator cost ~10 ms a message (header folding), most of the sender's time."""
    boundary = f"=_uchet_{message.idem_key}"
    headers = [
        f"From: {config.sender}",
        f"To: {message.address}",
        f"Subject: {Header(message.subject, 'utf-8').encode()}",
        f"Date: {formatdate(usegmt=True)}",
        f"Message-ID: <{message.idem_key}@{config.domain}>",
        f"X-Uchet-Kind: {message.kind}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    parts = [
        f"--{boundary}\r\nContent-Type: text/{subtype}; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(body.encode()).decode().replace("\n", "\r\n")
        for subtype, body in (("plain", message.body_text), ("html", message.body_html))
    ]
    return ("\r\n".join(headers) + "\r\n\r\n" + "".join(parts) + f"--{boundary}--\r\n").encode()


class SmtpSender:
    """Up to ``connections`` SMTP connections kept open and reused message after message;
    ``send`` may be awaited concurrently (one connection each)."""

    def __init__(self, config: SmtpConfig, connections: int = 1) -> None:
        self.config = config
        self.connections = max(1, connections)
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(self.connections)

    async def open(self) -> None:
        """Checks that the server answers (a connection kept for the first message)."""
        self._idle.append(await self._connect())

    async def _connect(self) -> aiosmtplib.SMTP:
        c = self.config
        smtp = aiosmtplib.SMTP(
            hostname=c.host, port=c.port, timeout=c.timeout, start_tls=c.starttls,
            username=c.username, password=c.password,
        )  # fmt: skip
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"SMTP {c.host}:{c.port}: {exc}") from exc
        return smtp

    async def send(self, message: Message) -> None:
        async with self._slots:
            smtp = self._idle.pop() if self._idle else None
            if smtp is None or not smtp.is_connected:
                smtp = await self._connect()
            try:
                await smtp.sendmail(
                    self.config.sender, [message.address], build(message, self.config)
                )
            except aiosmtplib.SMTPRecipientsRefused as exc:  # a bounce at the door: RCPT 5xx
                self._idle.append(smtp)
                codes = [e.code for e in exc.recipients]
                bounce = bool(codes) and all(500 <= code < 600 for code in codes)
                said = "; ".join(f"{e.code} {e.message}" for e in exc.recipients)
                raise SendFailed(
                    f"адрес отклонён: {said}", bounce=bounce, code=codes[0] if codes else 0
                ) from exc
            except aiosmtplib.SMTPResponseException as exc:
                self._idle.append(smtp)
                permanent = 500 <= exc.code < 600
                bounce = permanent and isinstance(exc, aiosmtplib.SMTPDataError)
                raise SendFailed(
                    f"SMTP {exc.code} {exc.message}",
                    permanent=permanent, bounce=bounce, code=exc.code,
                ) from exc  # fmt: skip
            except (aiosmtplib.SMTPException, OSError) as exc:
                smtp.close()
                raise SendFailed(f"SMTP: {exc}") from exc
            except BaseException:  # cancelled mid-transaction: the connection is unusable
                smtp.close()
                raise
            self._idle.append(smtp)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp in idle:
            if smtp.is_connected:
                try:
                    await smtp.quit()
                except (aiosmtplib.SMTPException, OSError):
                    smtp.close()

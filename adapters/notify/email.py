"""E-mail over SMTP with aiosmtplib: STARTTLS and auth when configured, one connection per
batch, a deterministic Message-ID (``<idempotency key@domain>``) so a message re-sent after a
crash is recognisable as the same one."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
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


def build(message: Message, config: SmtpConfig) -> EmailMessage:
    email = EmailMessage()
    email["From"] = config.sender
    email["To"] = message.address
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = f"<{message.idem_key}@{config.domain}>"
    email["X-Uchet-Kind"] = message.kind
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    return email


class SmtpSender:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: aiosmtplib.SMTP | None = None

    async def open(self) -> None:
        c = self.config
        smtp = aiosmtplib.SMTP(
            hostname=c.host, port=c.port, timeout=c.timeout, start_tls=c.starttls,
            username=c.username, password=c.password,
        )  # fmt: skip
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"SMTP {c.host}:{c.port}: {exc}") from exc
        self._smtp = smtp

    async def send(self, message: Message) -> None:
        if self._smtp is None or not self._smtp.is_connected:
            await self.open()
        assert self._smtp is not None
        try:
            await self._smtp.send_message(build(message, self.config))
        except aiosmtplib.SMTPRecipientsRefused as exc:  # a bounce at the door: 5xx on RCPT
            permanent = all(500 <= e.code < 600 for e in exc.recipients)
            raise SendFailed(f"refused: {exc}", permanent=permanent) from exc
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600
            raise SendFailed(f"SMTP {exc.code} {exc.message}", permanent=permanent) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            self._smtp = None
            raise SendFailed(f"SMTP: {exc}") from exc

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()

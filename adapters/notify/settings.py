"""Settings of notifications, from the environment (``UCHET_SMTP_*``, ``UCHET_NOTIFY_*``):
read by ``uchet notify`` and by the cabinet's pages, so both see the same values."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.notify.email import SmtpConfig
from adapters.notify.webhook import WebhookConfig
from core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class NotifySettings:
    smtp: SmtpConfig | None  # None: e-mail is not sent (its messages wait)
    webhook: WebhookConfig | None
    domain_per_minute: int  # messages a minute to one recipient domain; 0: no limit
    connections: int  # SMTP connections (and webhook requests) at once
    public_url: str  # where the cabinet is, for links in messages
    secret: bytes | None  # signs the e-mail confirmation links
    operator_email: str | None  # where operator alerts go
    operator_chat: str | None  # the operators' address on the webhook gateway
    confirm_hours: int  # how long a confirmation link works
    public_url_set: bool = False  # UCHET_NOTIFY_PUBLIC_URL given (else the pages use theirs)

    def confirm_secret(self) -> bytes:
        if not self.secret:
            raise ConfigError(
                "e-mail confirmation needs UCHET_NOTIFY_SECRET or UCHET_API_SECRET "
                "(≥ 32 characters): the key that signs the links"
            )
        return self.secret


def _int(env: Mapping[str, str], name: str, default: int, low: int = 0) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a whole number") from None
    if value < low:
        raise ConfigError(f"{name}={value}: must be at least {low}")
    return value


def notify_settings(env: Mapping[str, str] | None = None) -> NotifySettings:
    e = os.environ if env is None else env
    smtp = None
    if e.get("UCHET_SMTP_HOST"):
        smtp = SmtpConfig(
            host=e["UCHET_SMTP_HOST"],
            port=_int(e, "UCHET_SMTP_PORT", 25, 1),
            sender=e.get("UCHET_SMTP_FROM") or "uchet@localhost",
            starttls=e.get("UCHET_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
            username=e.get("UCHET_SMTP_USER") or None,
            password=e.get("UCHET_SMTP_PASSWORD") or None,
        )
    webhook = None
    if e.get("UCHET_NOTIFY_WEBHOOK_URL"):
        secret = e.get("UCHET_NOTIFY_WEBHOOK_SECRET")
        if not secret:
            raise ConfigError("UCHET_NOTIFY_WEBHOOK_URL needs UCHET_NOTIFY_WEBHOOK_SECRET")
        webhook = WebhookConfig(e["UCHET_NOTIFY_WEBHOOK_URL"], secret.encode())
    secret_text = e.get("UCHET_NOTIFY_SECRET") or e.get("UCHET_API_SECRET") or ""
    if secret_text and len(secret_text) < 32:
        raise ConfigError("UCHET_NOTIFY_SECRET must be at least 32 characters")
    return NotifySettings(
        smtp=smtp,
        webhook=webhook,
        domain_per_minute=_int(e, "UCHET_NOTIFY_DOMAIN_PER_MINUTE", 0),
        connections=_int(e, "UCHET_NOTIFY_CONNECTIONS", 4, 1),
        public_url=(e.get("UCHET_NOTIFY_PUBLIC_URL") or "http://localhost:8000").rstrip("/"),
        secret=secret_text.encode() or None,
        operator_email=e.get("UCHET_NOTIFY_OPERATOR_EMAIL") or None,
        operator_chat=e.get("UCHET_NOTIFY_OPERATOR_CHAT") or None,
        confirm_hours=_int(e, "UCHET_NOTIFY_CONFIRM_HOURS", 72, 1),
        public_url_set=bool(e.get("UCHET_NOTIFY_PUBLIC_URL")),
    )

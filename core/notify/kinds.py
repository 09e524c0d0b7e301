"""The kinds of notification and the channels they go by."""

from __future__ import annotations

import re
from typing import Final

READING_WINDOW_OPEN: Final = "reading_window_open"
READING_WINDOW_CLOSES: Final = "reading_window_closes"
READING_RECEIVED: Final = "reading_received"
EPD_READY: Final = "epd_ready"
DEBT: Final = "debt"
HOUSE_BALANCE: Final = "house_balance"  # operator alert
DEVICE_OFFLINE: Final = "device_offline"  # operator alert
EMAIL_CONFIRM: Final = "email_confirm"  # the only kind an unconfirmed address gets

# kind -> what a resident sees in the cabinet's preferences (the kinds a resident may choose)
KINDS: Final[dict[str, str]] = {
    READING_WINDOW_OPEN: "открыт приём показаний (счётчики без показаний за месяц)",
    READING_WINDOW_CLOSES: "приём показаний скоро закроется (если показаний ещё нет)",
    READING_RECEIVED: "показание принято (подтверждение со значением)",
    EPD_READY: "готов новый ЕПД (платёжный документ)",
    DEBT: "задолженность выше порога",
}
OPERATOR_KINDS: Final[dict[str, str]] = {
    HOUSE_BALANCE: "небаланс дома выше порога",
    DEVICE_OFFLINE: "устройство не на связи дольше допустимого",
}
SYSTEM_KINDS: Final[dict[str, str]] = {EMAIL_CONFIRM: "подтверждение адреса e-mail"}
ALL_KINDS: Final[dict[str, str]] = {**KINDS, **OPERATOR_KINDS, **SYSTEM_KINDS}
OPERATOR_ACCOUNT: Final = "@operator"  # the outbox's account of operator alerts

EMAIL: Final = "email"
WEBHOOK: Final = "webhook"  # an SMS/messenger gateway; the address is the phone or chat id
CHANNELS: Final = (EMAIL, WEBHOOK)
CHANNEL_NAMES: Final[dict[str, str]] = {EMAIL: "e-mail", WEBHOOK: "SMS / мессенджер"}


def check_kind(kind: str) -> str:
    if kind not in ALL_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; known: {', '.join(ALL_KINDS)}")
    return kind


def check_resident_kind(kind: str) -> str:
    """A kind a resident may opt in or out of."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; known: {', '.join(KINDS)}")
    return kind


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}")
    return channel


_EMAIL = re.compile(r"[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{2,63}")


def check_email(address: str) -> str:
    """A plain ``local@domain.tld`` (no display name, no spaces): what a resident types."""
    cleaned = address.strip()
    if len(cleaned) > 254 or not _EMAIL.fullmatch(cleaned) or ".." in cleaned:
        raise ValueError(f"не похоже на адрес e-mail: {address!r}")
    return cleaned

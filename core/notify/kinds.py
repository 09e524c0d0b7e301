"""The kinds of notification and the channels they go by."""

from __future__ import annotations

from typing import Final

READING_WINDOW_OPEN: Final = "reading_window_open"
DEBT: Final = "debt"

# kind -> what a resident sees in the cabinet's preferences
KINDS: Final[dict[str, str]] = {
    READING_WINDOW_OPEN: "открыт приём показаний (счётчики без показаний за месяц)",
    DEBT: "задолженность выше порога",
}

EMAIL: Final = "email"
WEBHOOK: Final = "webhook"  # an SMS/messenger gateway; the address is the phone or chat id
CHANNELS: Final = (EMAIL, WEBHOOK)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; known: {', '.join(KINDS)}")
    return kind


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}")
    return channel

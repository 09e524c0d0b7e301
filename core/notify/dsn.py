"""Bounce reports (delivery status notifications, RFC 3464) read with the stdlib e-mail
parser: which recipient failed, permanently or not, and which of our messages it was."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

_OUR_ID = re.compile(r"<([0-9a-f]{32})@[^>]+>")


@dataclass(frozen=True, slots=True)
class Bounce:
    recipient: str
    action: str  # failed | delayed | delivered | relayed | expanded
    status: str  # 5.1.1
    diagnostic: str
    idem_key: str | None  # of the outbox message, from the returned Message-ID

    @property
    def permanent(self) -> bool:
        return self.action == "failed" and self.status.startswith("5")


def _address(field: str) -> str:
    """``rfc822; user@example.ru`` → ``user@example.ru``."""
    return field.partition(";")[2].strip().strip("<>") if ";" in field else field.strip()


def _returned_key(report: Message) -> str | None:
    for part in report.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            payload: Any = part.get_payload()
            if isinstance(payload, list) and payload:
                headers = str(payload[0].get("Message-ID", ""))
            else:
                text: Any = part.get_payload(decode=True) or b""
                headers = str(message_from_bytes(bytes(text)).get("Message-ID", ""))
            if found := _OUR_ID.search(headers):
                return found.group(1)
    return None


def parse_dsn(raw: bytes) -> list[Bounce]:
    """The recipients of one DSN message; an empty list when it is not a delivery report.
    Raises ValueError for a report part without a Final-Recipient."""
    report = message_from_bytes(raw, policy=policy.compat32)
    if report.get_content_type() != "multipart/report":
        return []
    key = _returned_key(report)
    out: list[Bounce] = []
    for part in report.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks: Any = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:  # the first block is per message, the rest per recipient
            recipient = _address(
                str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            )
            if not recipient:
                raise ValueError("delivery-status block without Final-Recipient")
            out.append(
                Bounce(
                    recipient=recipient.lower(),
                    action=str(block.get("Action", "")).strip().lower(),
                    status=str(block.get("Status", "")).strip(),
                    diagnostic=" ".join(str(block.get("Diagnostic-Code", "")).split()),
                    idem_key=key,
                )
            )
    return out

"""The zone an 80020 area's times are in: ``area/@timezone`` when it says one, else the setting.

Producers write ``timezone="1"`` (АльфаЦЕНТР 3.16 and 3.21, SEDMAX, ARM Hist Server: every real
file seen) for data in Moscow time, the time of the wholesale market; АльфаЦЕНТР's header
comment says the same (``GmtFrom=5;GmtTo=3``: converted from the meters' UTC+5 to UTC+3).
Read here:

- ``1``: Moscow time (``Europe/Moscow``, with its historic offsets);
- ``0`` or absent: the configured zone (UCHET_TIMEZONE, the sender's local time);
- an IANA name (``Asia/Yekaterinburg``) or a UTC offset (``+05:00``, ``UTC+5``, ``GMT+05``):
  that zone;
- anything else: the configured zone, with a warning naming the value.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MOSCOW = "Europe/Moscow"
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def _fixed(sign: str, hours: int, minutes: int) -> ZoneInfo | None:
    """A fixed offset as an ``Etc/GMT`` zone (whole hours only: zoneinfo has no others)."""
    if minutes or hours > 14:
        return None
    if hours == 0:
        return ZoneInfo("UTC")
    # Etc/GMT signs are inverted: Etc/GMT-5 is UTC+5
    return ZoneInfo(f"Etc/GMT{'-' if sign == '+' else '+'}{hours}")


def area_zone(attr: str | None, default: ZoneInfo) -> tuple[ZoneInfo, str | None]:
    """(zone, warning or None) for an ``area/@timezone`` value."""
    if attr is None:
        return default, None
    text = attr.strip()
    if text in ("", "0"):
        return default, None
    if text == "1":
        return ZoneInfo(MOSCOW), None
    m = _OFFSET.match(text)
    if m is not None:
        zone = _fixed(m.group(1), int(m.group(2)), int(m.group(3) or 0))
        if zone is not None:
            return zone, None
    elif "/" in text or text.upper() == "UTC":
        try:
            return ZoneInfo(text), None
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default, (
        f"area timezone {attr!r} is not 0, 1, an IANA zone or a UTC offset; "
        f"its times are read in {default.key}"
    )

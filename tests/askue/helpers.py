"""Builders of small 80020 documents for the parser tests."""

from __future__ import annotations

HEADER = (
    "<datetime><timestamp>20240116090000</timestamp><daylightsavingtime>0</daylightsavingtime>"
    "<day>{day}</day></datetime>"
    "<sender><inn>7700000000</inn><name>Отправитель</name></sender>"
)


def message(
    area_body: str,
    *,
    day: str = "20240115",
    encoding: str = "utf-8",
    number: str = "5",
    header: str | None = None,
    root: str = 'message class="80020" version="2"',
) -> bytes:
    """An 80020 message with one area holding ``area_body``, encoded as declared."""
    head = HEADER.format(day=day) if header is None else header
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\r\n'
        f'<{root} number="{number}">{head}'
        f"<area><inn>7700000001</inn><name>Район</name>{area_body}</area></message>"
    )
    return text.encode("cp1251" if encoding == "windows-1251" else "utf-8")


def periods(values: list[str], *, minutes: int = 30, status: str | None = "0") -> str:
    """Consecutive periods from midnight holding ``values``."""
    out = []
    for i, v in enumerate(values):
        s, e = i * minutes, (i + 1) * minutes
        end = "0000" if e == 1440 else f"{e // 60:02d}{e % 60:02d}"
        attr = f' status="{status}"' if status is not None else ""
        start = f"{s // 60:02d}{s % 60:02d}"
        out.append(f'<period start="{start}" end="{end}"><value{attr}>{v}</value></period>')
    return "".join(out)


def point(code: str, channels: dict[str, str], kind: str = "measuringpoint") -> str:
    chans = "".join(
        f'<measuringchannel code="{c}" desc="x">{body}</measuringchannel>'
        for c, body in channels.items()
    )
    return f'<{kind} code="{code}" name="Точка">{chans}</{kind}>'

"""80020 files of the town's substations: one per substation and day, the houses' electricity
inputs as measuring points with half-hour A+ values (kWh), as an ASKUE server exports them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import quoteattr
from zoneinfo import ZoneInfo

from simulators.askue import day_periods
from simulators.city.delivery import AskueDay


def substation_inn(seed: int, substation: int) -> str:
    return f"77{seed % 1000:03d}{substation:05d}"


def render(f: AskueDay, *, seed: int, tz: ZoneInfo, number: int) -> bytes:
    periods = day_periods(f.day, tz, 30)
    inn = substation_inn(seed, f.substation)
    created = f.day + timedelta(days=1)
    points = []
    for code, values in f.points.items():
        cells = "".join(
            f'<period start="{p.start}" end="{p.end}"><value status="{status}">{text}</value>'
            "</period>"
            for p, (text, status) in zip(periods, values, strict=True)
        )
        points.append(
            f"<measuringpoint code={quoteattr(code)} name={quoteattr('ВРУ дома ' + code[-3:])}>"
            f'<measuringchannel code="01" desc="A+">{cells}</measuringchannel></measuringpoint>'
        )
    body = (
        f'<message class="80020" version="2" number="{number}">'
        f"<datetime><timestamp>{created:%Y%m%d}090000</timestamp>"
        f"<daylightsavingtime>0</daylightsavingtime><day>{f.day:%Y%m%d}</day></datetime>"
        f"<sender><inn>{inn}</inn><name>ПС-{f.substation + 1} (симуляция)</name></sender>"
        f"<area><inn>{inn}</inn><name>Городские сети</name>{''.join(points)}</area></message>"
    )
    return ('<?xml version="1.0" encoding="windows-1251"?>\r\n' + body).encode("cp1251")


def write(out: Path, f: AskueDay, *, seed: int, tz: ZoneInfo) -> Path:
    number = (f.day - date(2000, 1, 1)).days  # grows day by day, as a server's counter does
    path = out / f"80020_{substation_inn(seed, f.substation)}_{f.day:%Y%m%d}_{number}.xml"
    path.write_bytes(render(f, seed=seed, tz=tz, number=number))
    return path

"""ASKUE export simulator: 80020 files for a fleet of points from a seed, with ground truth.

Writes one file per day (``80020_<inn>_<YYYYMMDD>_<number>.xml``) and, on demand, corrections
(a higher number, some values changed), non-commercial values, measurement-error marks, the
zone's last fall-back day (25 hours, the repeated hour marked ``summer="1"``) and broken files.
``askue_truth.json`` beside them holds the true value of every point, channel and interval
after corrections, and what each file is. Periods come from the zone: the files are what an
ASKUE server in that zone exports, so parsing them must give back the truth exactly.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from core.codes import Flag, flag_names

TRUTH_FILE = "askue_truth.json"
BROKEN_KINDS = ("truncated", "not_xml", "bad_value", "bad_encoding")
ENCODINGS = ("windows-1251", "utf-8")


@dataclass(frozen=True)
class AskueFleet:
    """What to write. ``corrections``: how many days (from the first) get a correction file."""

    seed: int = 1
    points: int = 10
    days: int = 1
    start: date = date(2024, 1, 15)
    minutes: int = 30
    encoding: str = "windows-1251"
    channels: tuple[str, ...] = ("01",)
    groups: bool = False
    corrections: int = 0
    non_commercial: float = 0.0
    measurement_errors: float = 0.0
    changeover: bool = False
    broken: tuple[str, ...] = ()
    sender_inn: str = "7700000000"
    tz: str = "Europe/Moscow"
    shuffle: bool = True

    def __post_init__(self) -> None:
        if self.minutes not in (30, 60):
            raise ValueError(f"minutes must be 30 or 60, not {self.minutes}")
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, not {self.encoding!r}")
        unknown = set(self.broken) - set(BROKEN_KINDS)
        if unknown:
            raise ValueError(f"unknown broken kinds {sorted(unknown)}; known: {BROKEN_KINDS}")
        bad_channels = set(self.channels) - {"01", "02", "03", "04"}
        if bad_channels:
            raise ValueError(f"unknown channels {sorted(bad_channels)}; 80020 has 01..04")
        if self.points < 0 or self.days < 1 or not 0 <= self.corrections <= self.days:
            raise ValueError("need points >= 0, days >= 1 and 0 <= corrections <= days")


@dataclass(frozen=True)
class _Period:
    start: str
    end: str
    summer: bool
    start_utc: datetime
    end_utc: datetime


@dataclass
class _Value:
    text: str
    status: int = 0  # 80020 status: 1 non-commercial
    error: bool = False  # errofmeasuring / extendedstatus marked


@dataclass
class _DayFile:
    name: str
    day: date
    number: int
    role: str
    content: dict[tuple[str, str | None], list[_Value]]
    periods: list[_Period]
    broken: str | None = None
    bad: list[dict[str, str | None]] = field(default_factory=list)


def day_periods(day: date, tz: ZoneInfo, minutes: int) -> list[_Period]:
    """The periods an exporter in ``tz`` writes for ``day``: wall-clock ``HHMM`` from local
    midnight to the next, 23 or 25 hours on changeover days, the first repeated hour
    marked summer."""
    begin = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    finish = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    finish_utc = finish.astimezone(UTC)
    out = []
    t = begin
    step = timedelta(minutes=minutes)
    while t < finish_utc:
        local = t.astimezone(tz)
        wall = local.replace(tzinfo=None)
        twin = wall.replace(fold=1 - local.fold).replace(tzinfo=tz)
        repeated = twin.utcoffset() != local.utcoffset() and twin.astimezone(UTC) != t
        end_wall = wall + step
        end_text = "0000" if end_wall.date() > wall.date() else end_wall.strftime("%H%M")
        out.append(
            _Period(
                start=wall.strftime("%H%M"),
                end=end_text,
                summer=repeated and local.fold == 0,
                start_utc=t,
                end_utc=t + step,
            )
        )
        t += step
    return out


def last_fall_back_day(tz: ZoneInfo, before: date = date(2030, 1, 1)) -> date:
    """The latest day before ``before`` on which the zone's clocks went back."""
    day = before
    while day.year > 1970:
        day -= timedelta(days=1)
        a = datetime.combine(day, datetime.min.time(), tzinfo=tz).utcoffset()
        b = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz).utcoffset()
        if a is not None and b is not None and b < a:
            return day
    raise ValueError(f"{tz.key} never moved its clocks back")


def _value_text(rng: random.Random) -> str:
    milli = rng.randint(0, 99_999)
    return f"{milli // 1000}.{milli % 1000:03d}"


class _Writer:
    def __init__(self, fleet: AskueFleet) -> None:
        self.fleet = fleet
        self.rng = random.Random(fleet.seed)
        self.tz = ZoneInfo(fleet.tz)
        base = 100_000_000_000_000 + (fleet.seed % 1000) * 1_000_000
        self.points = [(f"{base + i}", f"Точка учёта №{i + 1}") for i in range(fleet.points)]
        self.series: list[tuple[str, str | None, str]] = [
            (code, ch, "measuringpoint") for code, _ in self.points for ch in fleet.channels
        ]
        if fleet.groups:
            self.series += [("GSIM0001", None, "deliverygroup"), ("PSIMA-PSIMB", None, "peretok")]
        self.number = 0

    def _next_number(self) -> int:
        self.number += 1
        return self.number

    def _content(self, periods: list[_Period]) -> dict[tuple[str, str | None], list[_Value]]:
        fleet, rng = self.fleet, self.rng
        content = {}
        for code, channel, _ in self.series:
            values = []
            for _p in periods:
                v = _Value(_value_text(rng))
                if rng.random() < fleet.non_commercial:
                    v.status = 1
                if rng.random() < fleet.measurement_errors:
                    v.error = True
                values.append(v)
            content[(code, channel)] = values
        return content

    def plan(self) -> list[_DayFile]:
        fleet = self.fleet
        days = [fleet.start + timedelta(days=i) for i in range(fleet.days)]
        roles = ["original"] * len(days)
        if fleet.changeover:
            days.append(last_fall_back_day(self.tz))
            roles.append("changeover")
        files = []
        for day, role in zip(days, roles, strict=True):
            periods = day_periods(day, self.tz, fleet.minutes)
            number = self._next_number()
            files.append(
                _DayFile(
                    name=self._name(day, number),
                    day=day,
                    number=number,
                    role=role,
                    content=self._content(periods),
                    periods=periods,
                )
            )
        for original in files[: fleet.corrections]:
            content = {
                key: [
                    _Value(_value_text(self.rng), v.status, v.error)
                    if self.rng.random() < 0.2
                    else _Value(v.text, v.status, v.error)
                    for v in values
                ]
                for key, values in original.content.items()
            }
            number = self._next_number()
            files.append(
                _DayFile(
                    self._name(original.day, number),
                    original.day,
                    number,
                    "correction",
                    content,
                    original.periods,
                )
            )
        return files

    def _name(self, day: date, number: int) -> str:
        return f"80020_{self.fleet.sender_inn}_{day:%Y%m%d}_{number}.xml"

    def render(self, f: _DayFile, encoding: str | None = None) -> bytes:
        fleet, rng = self.fleet, random.Random(f"{self.fleet.seed}/{f.number}")
        encoding = encoding or fleet.encoding
        offsets = {p.start_utc.astimezone(self.tz).utcoffset() for p in f.periods}
        noon = datetime.combine(f.day, datetime.min.time(), tzinfo=self.tz) + timedelta(hours=12)
        dst = 2 if len(offsets) > 1 else (1 if noon.dst() else 0)
        created = datetime.combine(f.day + timedelta(days=1), datetime.min.time()) + timedelta(
            hours=9, seconds=f.number
        )
        dt_parts = [
            f"<timestamp>{created:%Y%m%d%H%M%S}</timestamp>",
            f"<daylightsavingtime>{dst}</daylightsavingtime>",
            f"<day>{f.day:%Y%m%d}</day>",
        ]
        sender = [f"<inn>{fleet.sender_inn}</inn>", "<name>ООО «Симулятор АСКУЭ»</name>"]
        area_head = [f"<inn>{fleet.sender_inn}</inn>", "<name>Учёт &amp; Ко</name>"]
        if fleet.shuffle:
            rng.shuffle(dt_parts)
            rng.shuffle(sender)
            rng.shuffle(area_head)
        points = self._points_xml(f, rng)
        header = [
            f"<datetime>{''.join(dt_parts)}</datetime>",
            f"<sender>{''.join(sender)}</sender>",
        ]
        if fleet.shuffle and rng.random() < 0.5:
            header.reverse()
        area = (
            "".join(points) + "".join(area_head)
            if fleet.shuffle and rng.random() < 0.3
            else "".join(area_head) + "".join(points)
        )
        body = (
            f'<message class="80020" version="2" number="{f.number}">'
            + "".join(header)
            + f"<area>{area}</area></message>"
        )
        decl = f'<?xml version="1.0" encoding="{encoding}"?>\r\n'
        return (decl + body).encode("cp1251" if encoding == "windows-1251" else "utf-8")

    def _points_xml(self, f: _DayFile, rng: random.Random) -> list[str]:
        names = dict(self.points)
        parts: list[str] = []
        by_point: dict[str, list[str]] = {}
        for code, channel, kind in self.series:
            periods = self._periods_xml(f.periods, f.content[(code, channel)], rng)
            if kind == "measuringpoint":
                by_point.setdefault(code, []).append(
                    f'<measuringchannel code="{channel}" desc="канал {channel}">'
                    f"{periods}</measuringchannel>"
                )
            elif kind == "deliverygroup":
                parts.append(
                    f'<deliverygroup code="{code}" name="Группа поставки">{periods}</deliverygroup>'
                )
            else:
                frm, to = code.split("-")
                parts.append(
                    f'<peretok codefrom="{frm}" codeto="{to}" name="Переток А–Б">'
                    f"{periods}</peretok>"
                )
        points = [
            f"<measuringpoint code={quoteattr(code)} name={quoteattr(names[code])}>"
            + "".join(channels)
            + "</measuringpoint>"
            for code, channels in by_point.items()
        ]
        return points + parts

    def _periods_xml(self, periods: list[_Period], values: list[_Value], rng: random.Random) -> str:
        out = []
        for p, v in zip(periods, values, strict=True):
            attrs = f' status="{v.status}"' if v.status or rng.random() < 0.9 else ""
            if v.error:
                attrs += (
                    ' errofmeasuring="1"'
                    if rng.random() < 0.5
                    else ' exstendedstatus="1" param1="3" param2="0" param3="0"'
                )
            summer = ' summer="1"' if p.summer else ""
            out.append(
                f'<period start="{p.start}" end="{p.end}"{summer}>'
                f"<value{attrs}>{escape(v.text)}</value></period>"
            )
        return "".join(out)


def _flags(v: _Value, p: _Period) -> int:
    flags = 0
    if v.status:
        flags |= Flag.NON_COMMERCIAL
    if v.error:
        flags |= Flag.MEASUREMENT_ERROR
    if p.summer:
        flags |= Flag.SUMMER_REPEAT
    return int(flags)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_fleet(
    out: Path,
    fleet: AskueFleet,
    *,
    truth: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Writes the fleet's files into ``out`` (created) and returns the ground truth (also
    written to ``out/askue_truth.json`` unless ``truth`` is False). ``on_progress(done,
    total)`` counts the steps: each file written, then the truth file."""
    out.mkdir(parents=True, exist_ok=True)
    writer = _Writer(fleet)
    files = writer.plan()
    total = len(files) + len(fleet.broken) + int(truth)
    records: list[dict[str, Any]] = []
    final: dict[tuple[str, str | None, datetime], tuple[_Period, _Value, str]] = {}
    for f in files:
        data = writer.render(f)
        (out / f.name).write_bytes(data)
        records.append(_record(f, fleet.encoding))
        for (code, channel), values in f.content.items():
            for p, v in zip(f.periods, values, strict=True):
                final[(code, channel, p.start_utc)] = (p, v, f.name)
        if on_progress is not None:
            on_progress(len(records), total)
    for kind in fleet.broken:
        records.append(_write_broken(out, writer, files[0], kind, final))
        if on_progress is not None:
            on_progress(len(records), total)
    result: dict[str, Any] = {
        "fleet": {k: _plain(v) for k, v in asdict(fleet).items()},
        "files": records,
        "values": [
            [
                code,
                channel,
                _iso(p.start_utc),
                _iso(p.end_utc),
                v.text,
                v.status,
                flag_names(_flags(v, p)),
                name,
            ]
            for (code, channel, _), (p, v, name) in sorted(
                final.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])
            )
        ],
    }
    if truth:
        (out / TRUTH_FILE).write_text(json.dumps(result, ensure_ascii=False, indent=1))
        if on_progress is not None:
            on_progress(total, total)
    return result


def _plain(v: object) -> object:
    """A fleet setting as JSON has it."""
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, tuple):
        return list(v)
    return v


def _record(f: _DayFile, encoding: str) -> dict[str, Any]:
    return {
        "name": f.name,
        "day": f.day.isoformat(),
        "number": f.number,
        "encoding": encoding,
        "role": f.role,
        "broken": f.broken,
        "values": sum(len(v) for v in f.content.values()),
        "bad": f.bad,
    }


def _write_broken(
    out: Path,
    writer: _Writer,
    base: _DayFile,
    kind: str,
    final: dict[tuple[str, str | None, datetime], tuple[_Period, _Value, str]],
) -> dict[str, Any]:
    """A broken file for ``base``'s day with a number above all others, holding the final
    values (so whatever an importer salvages from it is still the truth)."""
    number = writer._next_number()
    content = {
        key: [final[(key[0], key[1], p.start_utc)][1] for p in base.periods] for key in base.content
    }
    f = _DayFile(
        writer._name(base.day, number),
        base.day,
        number,
        "broken",
        content,
        base.periods,
        broken=kind,
    )
    if kind == "truncated":
        data = writer.render(f)
        data = data[: len(data) // 2]
    elif kind == "not_xml":
        data = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
    elif kind == "bad_encoding":
        # Declares UTF-8 but is written in windows-1251, as misconfigured exporters do.
        data = writer.render(f, encoding="utf-8").decode("utf-8").encode("cp1251")
    else:  # bad_value: one value is not a number; the rest of the file is good
        key = next(iter(content))
        content[key] = list(content[key])
        content[key][0] = _Value("12,5x", content[key][0].status, content[key][0].error)
        p = base.periods[0]
        f.bad = [{"point": key[0], "channel": key[1], "period": f"{p.start}-{p.end}"}]
        data = writer.render(f)
    (out / f.name).write_bytes(data)
    return _record(f, "utf-8" if kind == "bad_encoding" else writer.fleet.encoding)

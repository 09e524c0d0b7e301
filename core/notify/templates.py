"""Russian texts of each kind: a subject, plain text and HTML (values escaped).

``params`` is the JSON-able dict stored with the message in the outbox; what each kind needs
is checked here, so a message that cannot be rendered is refused when it is enqueued."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from core.notify.kinds import DEBT, READING_WINDOW_OPEN, check_kind

_MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip
_SERVICES = {
    "cold_water": "холодная вода",
    "hot_water": "горячая вода",
    "electricity": "электроэнергия",
    "heating": "отопление",
    "gas": "газ",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def month_name(period: str) -> str:
    """``2026-03`` → ``март 2026``."""
    year, month = period.split("-")
    return f"{_MONTHS[int(month) - 1]} {int(year)}"


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d.%m.%Y")


def _need(params: Mapping[str, Any], kind: str, *names: str) -> None:
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"notification {kind}: missing {', '.join(missing)}")


def _html(title: str, paragraphs: list[str], items: list[str] | None = None) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if items:
        body += "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"
    return (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}"
        "<p><small>Настроить уведомления можно в личном кабинете.</small></p></body></html>"
    )


def _reading_window(params: Mapping[str, Any]) -> Rendered:
    _need(params, READING_WINDOW_OPEN, "period", "window_from", "window_to", "meters")
    month = month_name(params["period"])
    subject = f"Передайте показания счётчиков за {month}"
    lead = (
        f"Приём показаний за {month} открыт с {_day(params['window_from'])} "
        f"по {_day(params['window_to'])}. Нет показаний по счётчикам:"
    )
    items = [
        f"{_SERVICES.get(m['service'], m['service'])}: счётчик {m['meter']}"
        for m in params["meters"]
    ]
    tail = "Без показаний начисление будет по среднему или по нормативу (ПП 354)."
    text = "\n".join([lead, *(f"  — {i}" for i in items), "", tail])
    return Rendered(subject, text + "\n", _html(subject, [lead], items))


def _debt(params: Mapping[str, Any]) -> Rendered:
    _need(params, DEBT, "period", "debt", "penalty_from")
    subject = f"Задолженность по лицевому счёту: {params['debt']} ₽"
    lines = [
        f"На конец периода {month_name(params['period'])} задолженность составляет "
        f"{params['debt']} ₽.",
        f"С {_day(params['penalty_from'])} начисляются пени (ЖК РФ ст. 155 ч. 14).",
        "Если вы уже оплатили, не учитывайте это сообщение.",
    ]
    return Rendered(subject, "\n".join(lines) + "\n", _html(subject, lines))


_RENDER: dict[str, Callable[[Mapping[str, Any]], Rendered]] = {
    READING_WINDOW_OPEN: _reading_window,
    DEBT: _debt,
}


def render(kind: str, params: Mapping[str, Any]) -> Rendered:
    return _RENDER[check_kind(kind)](params)

"""Russian texts of each kind: a subject, plain text and HTML (values escaped).

``params`` is the JSON-able dict stored with the message in the outbox; what each kind needs
is checked here, so a message that cannot be rendered is refused when it is enqueued."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from core.notify.kinds import (
    DEBT,
    DEVICE_OFFLINE,
    EMAIL_CONFIRM,
    EPD_READY,
    HOUSE_BALANCE,
    READING_RECEIVED,
    READING_WINDOW_CLOSES,
    READING_WINDOW_OPEN,
    check_kind,
)

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


_UNITS = {"m3": "м³", "kWh": "кВт·ч", "Gcal": "Гкал"}


def unit_name(unit: str) -> str:
    return _UNITS.get(unit, unit)


def number(value: float, digits: int = 6) -> str:
    """A meter value as a person reads it: ``123,45`` (no trailing zeros)."""
    return f"{value:.{digits}f}".rstrip("0").rstrip(".").replace(".", ",")


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


_FOOTER = "Настроить уведомления можно в личном кабинете."


def _html(
    title: str,
    paragraphs: list[str],
    items: list[str] | None = None,
    *,
    link: tuple[str, str] | None = None,
    footer: str | None = _FOOTER,
) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if items:
        body += "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"
    if link:
        body += f'<p><a href="{escape(link[1])}">{escape(link[0])}</a></p>'
    if footer:
        body += f"<p><small>{escape(footer)}</small></p>"
    return (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _text(lines: list[str], footer: str | None = _FOOTER) -> str:
    return "\n".join([*lines, *(["", footer] if footer else [])]) + "\n"


def _when(iso: str) -> str:
    """A local time as a person reads it: ``05.03.2026 14:30``."""
    return datetime.fromisoformat(iso).strftime("%d.%m.%Y %H:%M")


def _meter_items(meters: list[Mapping[str, str]]) -> list[str]:
    return [f"{_SERVICES.get(m['service'], m['service'])}: счётчик {m['meter']}" for m in meters]


def _reading_window(params: Mapping[str, Any]) -> Rendered:
    _need(params, READING_WINDOW_OPEN, "period", "window_from", "window_to", "meters")
    month = month_name(params["period"])
    subject = f"Передайте показания счётчиков за {month}"
    lead = (
        f"Приём показаний за {month} открыт с {_day(params['window_from'])} "
        f"по {_day(params['window_to'])}. Нет показаний по счётчикам:"
    )
    items = _meter_items(params["meters"])
    tail = "Без показаний начисление будет по среднему или по нормативу (ПП 354)."
    text = "\n".join([lead, *(f"  — {i}" for i in items), "", tail])
    return Rendered(subject, _text([text]), _html(subject, [lead], items))


def _debt(params: Mapping[str, Any]) -> Rendered:
    _need(params, DEBT, "period", "debt", "penalty_from")
    subject = f"Просроченная задолженность по лицевому счёту: {params['debt']} ₽"
    lines = [
        f"На конец периода {month_name(params['period'])} просроченная задолженность "
        f"(не оплаченная в срок) составляет {params['debt']} ₽.",
        f"С {_day(params['penalty_from'])} начисляются пени (ЖК РФ ст. 155 ч. 14).",
        "Если вы уже оплатили, не учитывайте это сообщение.",
    ]
    return Rendered(subject, _text(lines), _html(subject, lines))


def _window_closes(params: Mapping[str, Any]) -> Rendered:
    _need(params, READING_WINDOW_CLOSES, "period", "window_to", "meters")
    month = month_name(params["period"])
    subject = f"Приём показаний за {month} закрывается {_day(params['window_to'])}"
    lead = (
        f"Приём показаний за {month} заканчивается {_day(params['window_to'])}. "
        "Показаний ещё нет по счётчикам:"
    )
    items = _meter_items(params["meters"])
    tail = "Передайте их в личном кабинете, иначе начисление будет по среднему или по нормативу."
    text = "\n".join([lead, *(f"  — {i}" for i in items), "", tail])
    return Rendered(subject, _text([text]), _html(subject, [lead], items))


def _reading_received(params: Mapping[str, Any]) -> Rendered:
    _need(params, READING_RECEIVED, "meter", "service", "value", "unit", "at")
    service = _SERVICES.get(params["service"], params["service"])
    subject = f"Показание принято: {service}, {params['value']} {params['unit']}"
    lines = [
        f"Принято показание счётчика {params['meter']} ({service}): "
        f"{params['value']} {params['unit']} на {_when(params['at'])}.",
        "Если вы его не передавали или ошиблись, исправьте в личном кабинете до конца "
        "приёма показаний.",
    ]
    return Rendered(subject, _text(lines), _html(subject, lines))


def _epd_ready(params: Mapping[str, Any]) -> Rendered:
    _need(params, EPD_READY, "period", "link", "total")
    month = month_name(params["period"])
    subject = f"Готов ЕПД за {month}"
    lines = [
        f"Единый платёжный документ за {month} готов. Начислено за месяц: {params['total']} ₽.",
        "Скачать его можно в личном кабинете на странице «Оплата»:",
    ]
    html = _html(subject, lines, link=(f"ЕПД за {month} (PDF)", params["link"]))
    return Rendered(subject, _text([*lines, params["link"]]), html)


_OPERATOR = "Оповещение для оператора uchet."


def _house_balance(params: Mapping[str, Any]) -> Rendered:
    _need(params, HOUSE_BALANCE, "house", "address", "service", "percent", "first_day",
          "last_day", "house_volume", "premises_volume", "unit")  # fmt: skip
    service = _SERVICES.get(params["service"], params["service"])
    subject = f"Небаланс {params['percent']} %: {params['address']}, {service}"
    lines = [
        f"Дом {params['address']} ({params['house']}), {service}: с {_day(params['first_day'])} "
        f"по {_day(params['last_day'])} общедомовой счётчик показал {params['house_volume']} "
        f"{params['unit']}, сумма квартир — {params['premises_volume']} {params['unit']}; "
        f"небаланс {params['percent']} %.",
        "Проверьте общедомовой счётчик и возможные утечки или незаконные подключения.",
    ]
    return Rendered(subject, _text(lines, _OPERATOR), _html(subject, lines, footer=_OPERATOR))


def _device_offline(params: Mapping[str, Any]) -> Rendered:
    _need(params, DEVICE_OFFLINE, "source", "device", "since", "hours")
    subject = f"Устройство {params['device']} не на связи {params['hours']} ч"
    lines = [
        f"Устройство {params['device']} ({params['source']}) не отвечает с "
        f"{_when(params['since'])} — {params['hours']} ч.",
    ]
    if params.get("last_error"):
        lines.append(f"Последняя ошибка: {params['last_error']}")
    return Rendered(subject, _text(lines, _OPERATOR), _html(subject, lines, footer=_OPERATOR))


def _email_confirm(params: Mapping[str, Any]) -> Rendered:
    _need(params, EMAIL_CONFIRM, "address", "link", "expires")
    subject = "Подтвердите адрес для уведомлений"
    lines = [
        f"Адрес {params['address']} указан для уведомлений в личном кабинете.",
        f"Чтобы получать уведомления, откройте ссылку до {_when(params['expires'])}:",
    ]
    tail = "Если это были не вы, ничего не делайте: без подтверждения писем не будет."
    html = _html(subject, [*lines], link=("Подтвердить адрес", params["link"]), footer=tail)
    return Rendered(subject, _text([*lines, params["link"]], tail), html)


_RENDER: dict[str, Callable[[Mapping[str, Any]], Rendered]] = {
    READING_WINDOW_OPEN: _reading_window,
    READING_WINDOW_CLOSES: _window_closes,
    READING_RECEIVED: _reading_received,
    EPD_READY: _epd_ready,
    DEBT: _debt,
    HOUSE_BALANCE: _house_balance,
    DEVICE_OFFLINE: _device_offline,
    EMAIL_CONFIRM: _email_confirm,
}


def render(kind: str, params: Mapping[str, Any]) -> Rendered:
    return _RENDER[check_kind(kind)](params)

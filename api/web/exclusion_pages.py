"""The dashboard's form to exclude a reading from billing, or include it again (role
``operator``); the record of exclusions is listed under it (api/routes/operator_readings.py
does the work, the same as ``POST /v1/operator/readings/exclude``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from api.deps import Operator
from api.problems import ProblemError
from api.routes import operator_readings
from api.web.common import Forbidden, checked_form, current_operator, flash, redirect, services_of
from api.web.common import web as web_state

router = APIRouter(prefix="/operator", include_in_schema=False)


def parse_time(text: str, request: Request) -> datetime | None:
    """ISO 8601; without an offset, in the app's time zone (what a ``datetime-local`` sends)."""
    try:
        ts = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=web_state(request).timezone)


@router.post("/readings/exclude")
async def exclude(request: Request) -> Response:
    session, role = await current_operator(request)
    form = await checked_form(request, session)
    if role != "operator":
        raise Forbidden(403, "Ключ с ролью «просмотр» не может изменять данные")
    back = redirect("/operator#exclusions")
    excluded = form.get("action", "exclude") != "include"
    meter, when = form.get("meter", "").strip(), form.get("ts", "")
    ts = parse_time(when, request)
    if ts is None:
        flash(request, back, "error", "Укажите время показания, например 2026-03-01T12:00")
        return back
    try:
        body = operator_readings.ExcludeRequest(meter=meter, ts=ts, reason=form.get("reason", ""))
    except ValidationError:
        flash(request, back, "error", "Укажите счётчик (источник:номер[:канал]) и причину")
        return back
    operator = Operator(session.key_id, role)
    try:
        out = await operator_readings.set_reading(
            body,
            services_of(request),
            excluded=excluded,
            actor=operator_readings.actor_of(operator, "web"),
        )
    except ProblemError as exc:
        flash(request, back, "error", f"Не выполнено: {exc.detail or exc.slug}")
        return back
    state = "исключено из расчёта" if out.excluded else "снова учитывается"
    done = "" if out.changed else " (уже было так, ничего не записано)"
    flash(
        request, back, "ok",
        f"Показание {out.meter} на {out.ts.isoformat()} ({out.value:g}) {state}{done}",
    )  # fmt: skip
    return back

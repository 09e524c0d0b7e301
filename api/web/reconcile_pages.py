"""The operator's reconciliation page (issue #22): the findings of the property register against
the accounts, ranked (houses with unmetered consumption and unbilled rows first, then money at
stake), filters by kind and house, CSV/XLSX export; role ``operator`` also uploads a register,
confirms a match, marks a finding checked and opens an account from a register row. The work is
api/routes/reconcile.py's, the same as the ``/v1/operator/reconcile/*`` routes."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from adapters.property import property_mappings
from adapters.property.export import KIND_NAMES
from adapters.store.property import decision_log
from api.deps import ascii_int, connection
from api.problems import ProblemError
from api.routes import reconcile as api
from api.routes.operator_ingest import upload_name
from api.runtime import settings as core_settings
from api.web.common import (
    Forbidden,
    checked_form,
    current_operator,
    flash,
    redirect,
    render,
    safe_next,
    services_of,
)
from core.reconcile.report import ranked_houses

router = APIRouter(prefix="/operator/reconcile", include_in_schema=False)
PAGE = 50
PAGE_HOUSES = 12
HERE = "/operator/reconcile"
DECISION_NAMES = {
    "confirm": "сопоставлено",
    "checked": "проверено",
    "open": "открыт лицевой счёт",
    "undo": "отменено",
}


def _filters(params: dict[str, str]) -> tuple[str | None, str | None, int]:
    kind = params.get("kind") or None
    if kind not in KIND_NAMES:
        kind = None
    house = (params.get("house") or "").strip()[:200] or None
    page = ascii_int(params.get("page", "1"), high=1_000_000) or 1
    return kind, house, page


def _url(path: str, **query: object) -> str:
    shown = {k: v for k, v in query.items() if v not in (None, "", 1) or (k == "kind" and v)}
    return f"{path}?{urlencode(shown)}" if shown else path


@router.get("", response_class=HTMLResponse)
async def page(request: Request) -> Response:
    _, role = await current_operator(request)
    kind, house, number = _filters(dict(request.query_params))
    services = services_of(request)
    try:
        built = await api.current_report(services)
    except ProblemError as exc:  # no register imported yet
        return render(
            request, "reconcile.html",
            {"role": role, "built": None, "why": exc.detail, "kinds": KIND_NAMES,
             "mappings": property_mappings(core_settings().home), "shown": {}},
        )  # fmt: skip
    chosen = api.select(built, kind, house)
    pages = max(math.ceil(len(chosen) / PAGE), 1)
    number = min(number, pages)
    here = _url(HERE, kind=kind, house=house, page=number)
    r = built.report
    context = {
        "role": role,
        "built": built,
        "r": r,
        "kinds": KIND_NAMES,
        "shown": {"kind": kind or "", "house": house or ""},
        "findings": chosen[(number - 1) * PAGE : number * PAGE],
        "matching": len(chosen),
        "first": (number - 1) * PAGE + 1,
        "page": number,
        "pages": pages,
        "prev": _url(HERE, kind=kind, house=house, page=number - 1) if number > 1 else None,
        "next": _url(HERE, kind=kind, house=house, page=number + 1) if number < pages else None,
        "here": here,
        "houses": ranked_houses(r)[:PAGE_HOUSES],
        "total": sum((f.money for f in r.findings), start=0),
        "export_csv": _url(f"{HERE}/export.csv", kind=kind, house=house),
        "export_xlsx": _url(f"{HERE}/export.xlsx", kind=kind, house=house),
        "mappings": property_mappings(core_settings().home),
        "decision_names": DECISION_NAMES,
    }
    async with connection(services, "reconcile decisions") as conn:
        context["decisions"] = await decision_log(conn, 20)
    return render(request, "reconcile.html", context)


@router.get("/export.{fmt}")
async def export(request: Request, fmt: str) -> Response:
    await current_operator(request)
    if fmt not in ("csv", "xlsx"):
        raise Forbidden(404, "Нет такого формата выгрузки")
    kind, house, _ = _filters(dict(request.query_params))
    try:
        built = await api.current_report(services_of(request))
    except ProblemError:
        raise Forbidden(404, "Реестр помещений ещё не загружен") from None
    return api.export(built, kind, house, fmt)


async def _operator_form(request: Request) -> tuple[str, dict[str, str]]:
    session, role = await current_operator(request)
    form = await checked_form(request, session)
    if role != "operator":
        raise Forbidden(403, "Ключ с ролью «просмотр» не может изменять данные")
    return f"web:api_key:{session.key_id}", form


def _back(form: dict[str, str]) -> str:
    target = safe_next(form.get("back"), HERE)
    return target if target == HERE or target.startswith(HERE + "?") else HERE


@router.post("/decide")
async def decide(request: Request) -> Response:
    """One decision on one finding: ``confirm`` (the proposed premise or one typed in),
    ``check``, or ``open`` (an account from an unbilled register row)."""
    actor, form = await _operator_form(request)
    back = redirect(_back(form) + "#findings")
    action, key, note = form.get("action", ""), form.get("key", ""), form.get("note", "")
    services = services_of(request)
    try:
        if action == "confirm":
            body = api.ConfirmIn(key=key, premise=form.get("premise", "").strip(), note=note)
            out = await api.confirm_match(body, services, actor)
            text = f"Строка реестра сопоставлена с помещением {out.premise}"
        elif action == "check":
            check = api.CheckIn(kind=form.get("kind", ""), key=key, note=note)
            await api.mark_checked(check, services, actor)
            text = "Расхождение отмечено как проверенное и убрано из списка"
        elif action == "open":
            body_open = api.OpenIn(key=key, account=form.get("account") or None, note=note)
            out = await api.open_account(body_open, services, actor)
            text = (
                f"Открыт лицевой счёт {out.account} (помещение {out.premise})"
                if out.created
                else f"Лицевой счёт по этой строке уже открыт: {out.account}"
                f" (помещение {out.premise})"
            )
        else:
            raise Forbidden(422, "Неизвестное действие")
    except ValidationError:
        flash(request, back, "error", "Не выполнено: проверьте поля формы")
        return back
    except ProblemError as exc:
        flash(request, back, "error", f"Не выполнено: {exc.detail or exc.slug}")
        return back
    flash(request, back, "ok", text)
    return back


@router.post("/register")
async def upload(request: Request) -> Response:
    """Imports an uploaded register; the page then shows the report over it."""
    _, form = await _operator_form(request)
    back = redirect(HERE)
    upload = (await request.form()).get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    if not data.strip():
        flash(request, back, "error", "Выберите непустой файл реестра (CSV или XLSX)")
        return back
    name = upload_name(upload.filename if isinstance(upload, UploadFile) else "", 0)
    mapping = form.get("mapping", "") or "municipal_premises"
    try:
        r = await api.import_upload(services_of(request), name, data, mapping)
    except ProblemError as exc:
        flash(request, back, "error", f"Файл не загружен: {exc.detail or exc.slug}")
        return back
    bad = f", с ошибками {len(r.problems)} (первая: {r.problems[0]})" if r.problems else ""
    flash(request, back, "ok" if r.rows else "warn", f"Загружен {r.file}: {r.rows} помещений{bad}")
    return back

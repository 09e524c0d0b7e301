"""The operator's claims pages (issue #19): open claims by stage, a claim's history with the forms
to move it on or close it (role ``operator``), its letter, and the debtors due a notice."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from adapters.store.claims import count_claims, list_claims
from adapters.store.ledger import Connection
from api.deps import ascii_int, connection
from api.routes.claims import today
from api.routes.ledger_data import load_payee
from api.runtime import settings as core_settings
from api.web import labels
from api.web.common import (
    Forbidden,
    checked_form,
    current_operator,
    flash,
    redirect,
    render,
    services_of,
)
from core.errors import ConfigError
from core.ledger.claims import CLOSE_REASONS, STAGE_NAMES, STAGES, ClaimError, next_stages, ru_day
from core.ledger.dates import day_name, parse_day
from core.ledger.errors import LedgerError
from core.ledger.money import format_money, parse_typed_rubles
from ingest import claims as cases

router = APIRouter(prefix="/operator/claims", include_in_schema=False)
READ_ONLY = "Ключ с ролью «просмотр» не может изменять данные"


def _claim_id(text: str) -> int:
    found = ascii_int(text)
    if found is None:
        raise Forbidden(404, "Претензия не найдена")
    return found


def rub(kopecks: int) -> str:
    """Kopecks as the pages show money: ``1 234,50 ₽``."""
    return labels.money(format_money(kopecks))


def _common(role: str, request: Request) -> dict[str, Any]:
    return {
        "rub": rub,
        "ru_day": ru_day,
        "role": role,
        "stage_names": STAGE_NAMES,
        "reasons": CLOSE_REASONS,
        "today": day_name(today(services_of(request))),
    }


PAGE_ROWS = 50


def _list_link(stage: str | None, house: str | None, closed: bool, page: int) -> str:
    kept = {"stage": stage, "house": house, "closed": "1" if closed else None, "page": page}
    return "/operator/claims?" + urlencode({k: v for k, v in kept.items() if v})


@router.get("", response_class=HTMLResponse)
async def claims_page(
    request: Request,
    stage: str | None = None,
    house: str | None = None,
    closed: bool = False,
    page: str = "1",
) -> Response:
    """Open (or closed) claims, of a stage and a house if given, 50 a page, with how many
    there are at each stage."""
    _, role = await current_operator(request)
    stage = stage if stage in STAGES else None
    house = (house or "").strip()[:200] or None
    number = ascii_int(page.strip(), low=1, high=10**6) or 1
    async with connection(services_of(request), "claims page") as conn:
        counts = await count_claims(conn, house=house, closed=closed)
        total = sum(counts.values())
        matching = total if stage is None else counts.get(stage, 0)
        pages = max(1, math.ceil(matching / PAGE_ROWS))
        number = min(number, pages)
        shown = await list_claims(
            conn,
            stage=stage,
            house=house,
            closed=closed,
            limit=PAGE_ROWS,
            offset=(number - 1) * PAGE_ROWS,
        )
    return render(
        request,
        "claims.html",
        {
            **_common(role, request),
            "claims": shown,
            "counts": {s: counts.get(s, 0) for s in STAGES},
            "total": total,
            "matching": matching,
            "stage": stage,
            "house": house or "",
            "closed": closed,
            "page": number,
            "pages": pages,
            "first": (number - 1) * PAGE_ROWS + 1,
            "prev": _list_link(stage, house, closed, number - 1) if number > 1 else None,
            "next": _list_link(stage, house, closed, number + 1) if number < pages else None,
        },
    )


@router.get("/candidates", response_class=HTMLResponse)
async def candidates_page(
    request: Request, min_debt: str = "1000.00", min_days: str = "60", house: str | None = None
) -> Response:
    _, role = await current_operator(request)
    house = (house or "").strip()[:200] or None
    error = None
    found: list[cases.Candidate] = []
    days = ascii_int(min_days.strip(), low=0, high=100000)
    try:
        kopecks = parse_typed_rubles(min_debt, "min_debt")
    except LedgerError:
        kopecks = None
    if kopecks is None or days is None:
        error = "Укажите сумму долга в рублях (1000.00) и число дней просрочки (60)"
    else:
        services = services_of(request)
        async with connection(services, "claim candidates") as conn:
            found = await cases.candidates(
                conn, today(services), min_debt=kopecks, min_days=days, house=house
            )
    return render(
        request,
        "claims_candidates.html",
        {
            **_common(role, request),
            "found": found,
            "error": error,
            "min_debt": min_debt,
            "min_days": min_days,
            "house": house or "",
        },
    )


@router.get("/{claim_id}", response_class=HTMLResponse)
async def claim_page(request: Request, claim_id: str) -> Response:
    _, role = await current_operator(request)
    cid = _claim_id(claim_id)
    async with connection(services_of(request), "claim page") as conn:
        try:
            claim = await cases.claim(conn, cid)
        except ClaimError:
            raise Forbidden(404, "Претензия не найдена") from None
    return render(
        request,
        "claims_claim.html",
        {**_common(role, request), "c": claim, "next": next_stages(claim.history)},
    )


async def _write_form(request: Request) -> tuple[str, dict[str, str]]:
    session, role = await current_operator(request)
    form = await checked_form(request, session)
    if role != "operator":
        raise Forbidden(403, READ_ONLY)
    return f"web:api_key:{session.key_id}", form


def _form_day(form: dict[str, str], services: Any) -> int:
    text = form.get("date", "").strip()
    return today(services) if not text else parse_day(text, "дата")


def _done(request: Request, back: Response, text: str, exc: LedgerError | None) -> Response:
    if exc is None:
        flash(request, back, "ok", text)
    else:
        flash(request, back, "error", f"Не выполнено: {exc}")
    return back


@router.post("")
async def open_claim(request: Request) -> Response:
    actor, form = await _write_form(request)
    services = services_of(request)
    account = form.get("account", "").strip()[:200]
    try:
        day = _form_day(form, services)
        async with connection(services, "open claim") as conn:
            c = await cases.open_claim(
                conn, account, day, today(services), actor=actor, note=form.get("note", "")
            )
    except LedgerError as exc:
        origin = "/candidates" if form.get("from") == "candidates" else ""
        return _done(request, redirect(f"/operator/claims{origin}"), "", exc)
    back = redirect(f"/operator/claims/{c.id}")
    return _done(request, back, f"Претензия № {c.id} по счёту {account} открыта", None)


Step = Callable[[Connection, int, int, int, str, dict[str, str]], Awaitable[str]]


async def _step(request: Request, claim_id: str, what: str, act: Step) -> Response:
    """Checks the form, does ``act(conn, claim, day, today, actor, form)`` and goes back to
    the claim's page with its message (or the reason it was refused)."""
    actor, form = await _write_form(request)
    cid = _claim_id(claim_id)
    services = services_of(request)
    back = redirect(f"/operator/claims/{cid}")
    try:
        day = _form_day(form, services)
        async with connection(services, what) as conn:
            text = await act(conn, cid, day, today(services), actor, form)
    except LedgerError as exc:
        return _done(request, back, "", exc)
    return _done(request, back, text, None)


async def _advance(
    conn: Connection, cid: int, day: int, now: int, actor: str, form: dict[str, str]
) -> str:
    stage = form.get("stage", "")
    document = form.get("document", "").strip()[:300] or None
    await cases.advance_claim(
        conn, cid, stage, day, now, actor=actor, note=form.get("note", ""), document=document
    )
    return f"Этап «{STAGE_NAMES[stage]}» записан на {ru_day(day)}"


async def _close(
    conn: Connection, cid: int, day: int, now: int, actor: str, form: dict[str, str]
) -> str:
    reason = form.get("reason", "")
    await cases.close_claim(conn, cid, reason, day, now, actor=actor, note=form.get("note", ""))
    return f"Претензия закрыта: {CLOSE_REASONS[reason]}"


@router.post("/{claim_id}/advance")
async def advance(request: Request, claim_id: str) -> Response:
    return await _step(request, claim_id, "advance claim", _advance)


@router.post("/{claim_id}/close")
async def close(request: Request, claim_id: str) -> Response:
    return await _step(request, claim_id, "close claim", _close)


@router.get("/{claim_id}/letter.pdf")
async def letter(request: Request, claim_id: str) -> Response:
    await current_operator(request)
    cid = _claim_id(claim_id)
    try:
        payee = load_payee(core_settings().home / "payee.json")
    except ConfigError as exc:
        raise Forbidden(404, f"Письмо не сформировано: {exc}") from None
    async with connection(services_of(request), "claim letter") as conn:
        try:
            name, pdf = await cases.stage_letter(conn, cid, payee)
        except ClaimError:
            raise Forbidden(404, "Претензия не найдена") from None
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

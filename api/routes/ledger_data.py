"""What the ledger's routes, the cabinet page and ``uchet epd`` share: an account's month read
from the store and settled, the debtors' aging, and the ЕПД of an account (payee from a file)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.payments.payer import payer_of, plain
from adapters.store.ledger import (
    Connection,
    account_details,
    load_accounts,
    month_accruals,
    stored_key_rates,
)
from adapters.store.ledger_month import (
    BUCKET_COLUMNS,
    house_address,
    saved_collection,
    saved_debtors,
    saved_month,
    saved_totals,
)
from core.cells import safe_text
from core.errors import ConfigError
from core.ledger import LedgerError
from core.ledger.aging import BUCKET_NAMES, Debtor, chosen, debtor, totals
from core.ledger.allocate import settle
from core.ledger.case import statement_json
from core.ledger.collection import Collected, collected
from core.ledger.dates import (
    charged_on,
    day_name,
    due_date,
    first_day,
    last_day,
    month_of,
    period_name,
)
from core.ledger.key_rates import merged
from core.ledger.model import Account, KeyRates, Payment, Settled
from core.ledger.money import format_money, format_rate
from core.ledger.payment_qr import Payee
from core.ledger.statement import Statement, statement
from ingest.settling import SETTINGS, each_account

SERVICE_NAMES = {
    "cold_water": ("Холодная вода", "м³"),
    "hot_water": ("Горячая вода", "м³"),
    "sewage": ("Водоотведение", "м³"),
    "electricity": ("Электроэнергия", "кВт·ч"),
    "gas": ("Газ", "м³"),
    "heating": ("Отопление", "Гкал"),
}
PAYEE_FIELDS = ("name", "inn", "kpp", "account", "bank", "bic", "corr_account")


@dataclass(frozen=True, slots=True)
class Month:
    account: Account
    settled: Settled
    statement: Statement

    @property
    def to_pay(self) -> int:
        s = self.statement
        return max(s.closing_balance, 0) + max(s.penalty_due, 0)


async def months(
    conn: Connection, month: int, day: int | None = None, keys: Sequence[str] | None = None
) -> list[Month]:
    """The statements of ``month`` as of ``day`` (default: its last day) of the store's
    accounts (or of ``keys``), ordered by account; a whole store is settled off the event
    loop, so the API keeps answering meanwhile."""
    day = last_day(month) if day is None else min(day, last_day(month))

    def one(a: Account, rates: KeyRates) -> Month:
        settled = settle(a, day, rates, SETTINGS)
        return Month(a, settled, _statement(settled, month, day, rates))

    return await each_account(conn, day, one, keys)


def _statement(settled: Settled, month: int, day: int, rates: KeyRates) -> Statement:
    return statement(settled, month, day, rates, SETTINGS)


def balance_json(m: Month) -> dict[str, Any]:
    """The resident's balance: the statement (spec form) plus the sum to pay, the month's
    payments and those of the twelve months to it (newest first)."""
    s = m.statement
    out = statement_json(s, m.settled)
    out["account"] = m.account.id
    out["to_pay"] = format_money(m.to_pay)
    out["due"] = day_name(due_date(s.month, SETTINGS.due_day))
    lo = first_day(s.month)
    since = first_day(s.month - 11)

    def payment(p: Payment) -> dict[str, Any]:
        return {
            "id": p.id,
            "date": day_name(p.day),
            "amount": format_money(p.amount),
            "period": None if p.period is None else period_name(p.period),
            "to": p.to,
        }

    out["payments"] = [payment(p) for p in m.account.payments if lo <= p.day <= s.day]
    out["recent_payments"] = [
        payment(p) for p in reversed(m.account.payments) if since <= p.day <= s.day
    ]
    return out


def debtor_list(items: Sequence[Month], details: Sequence[Any]) -> list[Debtor]:
    """The accounts of ``items`` that owe, with their house and address (from
    ``account_details``), largest debt (with penalty) first, then by account."""
    by_key = {r["key"]: r for r in details}
    out = []
    for m in items:
        d = by_key.get(m.account.id)
        house, address = (None, None) if d is None else (d["house_id"], d["address"])
        found = debtor(m.account.id, house, address, m.statement)
        if found is not None:
            out.append(found)
    out.sort(key=lambda d: (-(d.debt + d.penalty_due), d.account))
    return out


def _buckets(values: dict[str, int]) -> dict[str, str]:
    return {k: format_money(values[k]) for k in BUCKET_NAMES}


def _debtor_json(d: Debtor) -> dict[str, Any]:
    return {
        "account": d.account,
        "house": d.house,
        "address": d.address,
        "debt": format_money(d.debt),
        "penalty_due": format_money(d.penalty_due),
        "closing_balance": format_money(d.closing_balance),
        "oldest_delay_days": d.oldest_delay_days,
        "buckets": _buckets(d.buckets),
    }


def report_json(
    page: Sequence[Debtor],
    sums: dict[str, int],
    count: int,
    month: int,
    day: int,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> dict[str, Any]:
    """A page of debtors and the totals (``sums`` as of :func:`totals`) of all ``count``."""
    return {
        "month": period_name(month),
        "date": day_name(day),
        "accounts": [_debtor_json(d) for d in page],
        "offset": offset,
        "limit": limit,
        "totals": {
            "accounts": count,
            "debt": format_money(sums["debt"]),
            "penalty_due": format_money(sums["penalty_due"]),
            "buckets": _buckets(sums),
        },
    }


def debtors_json(
    debtors: list[Debtor], month: int, day: int, *, offset: int = 0, limit: int | None = None
) -> dict[str, Any]:
    """The debtors (a page of them: ``offset``, ``limit``) with their aging, and the totals of
    them all."""
    page = debtors[offset:] if limit is None else debtors[offset : offset + limit]
    return report_json(page, totals(debtors), len(debtors), month, day, offset=offset, limit=limit)


def report_day(month: int, today: int) -> int:
    """The day a month's report is as of: today within the month, else its last day."""
    if month > month_of(today):
        raise LedgerError(f"месяц {period_name(month)} ещё не наступил")
    return min(today, last_day(month))


async def debtor_months(
    conn: Connection, month: int, day: int, house: str | None
) -> tuple[list[Month], list[Any]]:
    """The month's statements as of ``day`` of every account (or of ``house``'s) and the
    accounts' details (house, address)."""
    details = await account_details(conn, house=house)
    keys = None if house is None else [r["key"] for r in details]
    return await months(conn, month, day, keys=keys), details


def collection_periods(month: int, day: int, count: int) -> list[int]:
    """The ``count`` periods up to ``month`` charged by ``day``."""
    return [p for p in range(month - count + 1, month + 1) if charged_on(p) <= day]


def collection_json(
    items: Sequence[Month], details: Sequence[Any], month: int, day: int, count: int
) -> dict[str, Any]:
    """The collection rate (paid / charged) per house and period for the ``count`` periods up
    to ``month`` charged by ``day``, and over all houses; exact kopecks, percent half-up."""
    wanted = collection_periods(month, day, count)
    house_of = {r["key"]: r["house_id"] for r in details}
    addresses = {r["house_id"]: r["address"] for r in details}
    by_house: dict[str | None, dict[int, Collected]] = {}
    for m in items:
        book = by_house.setdefault(house_of.get(m.account.id), {p: Collected() for p in wanted})
        for p, c in collected(m.settled, wanted, day).items():
            book[p].add(c)
    return collection_report(by_house, addresses, month, day, wanted)


def collection_report(
    by_house: dict[str | None, dict[int, Collected]],
    addresses: dict[str | None, str | None],
    month: int,
    day: int,
    wanted: list[int],
) -> dict[str, Any]:
    """The collection JSON of per-house sums (every book holds every period of ``wanted``)."""
    everyone = {p: Collected() for p in wanted}
    for book in by_house.values():
        for p, c in book.items():
            everyone[p].add(c)

    def cells(book: dict[int, Collected]) -> list[dict[str, Any]]:
        return [
            {
                "period": period_name(p),
                "charged": format_money(c.charged),
                "paid": format_money(c.paid),
                "rate_percent": None if c.rate_bp is None else format_rate(c.rate_bp),
            }
            for p, c in book.items()
        ]

    return {
        "month": period_name(month),
        "date": day_name(day),
        "periods": [period_name(p) for p in wanted],
        "houses": [
            {"house": h, "address": addresses.get(h), "periods": cells(book)}
            for h, book in sorted(by_house.items(), key=lambda kv: kv[0] or "")
        ],
        "total": cells(everyone),
    }


EXPORT_HEADER = (
    "Лицевой счёт",
    "Дом",
    "Адрес",
    "Долг, ₽",
    "0–30 дней, ₽",
    "31–90 дней, ₽",
    "91–180 дней, ₽",
    "181 день и более, ₽",
    "Пени к оплате, ₽",
    "Сальдо, ₽",
    "Просрочка, дней",
)


def _rub(kopecks: int) -> Decimal:
    return Decimal(kopecks).scaleb(-2)


def export_rows(debtors: Sequence[Debtor]) -> list[tuple[Any, ...]]:
    """The debtors as rows of EXPORT_HEADER: money as exact Decimal rubles."""
    return [
        (
            safe_text(d.account),
            safe_text(d.house or ""),
            safe_text(d.address or ""),
            _rub(d.debt),
            *(_rub(d.buckets[k]) for k in BUCKET_NAMES),
            _rub(d.penalty_due),
            _rub(d.closing_balance),
            d.oldest_delay_days,
        )
        for d in debtors
    ]


def debtors_csv(debtors: Sequence[Debtor]) -> bytes:
    """CSV as Russian Excel opens it: UTF-8 with BOM, ``;`` between fields, decimal comma."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(EXPORT_HEADER)
    for row in export_rows(debtors):
        w.writerow([f"{v:f}".replace(".", ",") if isinstance(v, Decimal) else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def debtors_xlsx(debtors: Sequence[Debtor], title: str) -> bytes:
    """An XLSX workbook: one sheet, money cells as numbers with two decimals and ₽."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = "Должники"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True)
    sheet.append(list(EXPORT_HEADER))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in export_rows(debtors):
        sheet.append(list(row))
    for column in "DEFGHIJ":
        for cell in sheet[column][2:]:
            cell.number_format = '#,##0.00 "₽"'
    widths = (16, 10, 36, 14, 14, 14, 14, 16, 14, 14, 12)
    for column, width in zip("ABCDEFGHIJK", widths, strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def load_payee(path: Path) -> Payee:
    """The payee (получатель платежа) of the ЕПД: a JSON object with PAYEE_FIELDS."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"ЕПД payee file {path}: cannot read ({exc.strerror})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"ЕПД payee file {path}: not UTF-8 JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"ЕПД payee file {path}: expected a JSON object")
    missing = [f for f in PAYEE_FIELDS if not isinstance(raw.get(f), str) or not raw[f]]
    if missing:
        raise ConfigError(f"ЕПД payee file {path}: field {missing[0]!r} missing or not text")
    return Payee(**{f: raw[f] for f in PAYEE_FIELDS})


def service_lines(rows: Sequence[Any]) -> list[Any]:
    """The ЕПД lines of one premise's accruals: per service the volume, tariff and amount of
    its lines, with the recalculation lines apart."""
    from adapters.payments.epd import ServiceLine

    by: dict[str, dict[str, Any]] = {}
    for r in rows:
        line = by.setdefault(
            r["service"], {"volume": Decimal(0), "tariff": None, "amount": 0, "recalc": 0}
        )
        kopecks = int(r["amount"] * 100)
        if r["method"] == "recalculation":
            line["recalc"] += kopecks
            continue
        line["volume"] += r["volume"]
        line["amount"] += kopecks
        line["tariff"] = r["tariff"] if line["tariff"] in (None, r["tariff"]) else "various"
    out = []
    for service, line in by.items():
        name, unit = SERVICE_NAMES.get(service, (service, ""))
        tariff = line["tariff"]
        out.append(
            ServiceLine(
                service=name,
                volume=plain(line["volume"]),
                unit=unit,
                tariff="разные" if tariff == "various" else plain(tariff or Decimal(0)),
                amount=line["amount"],
                recalculation=line["recalc"],
            )
        )
    return out


def epd_statement(settled: Settled, period: int, rates: KeyRates) -> Statement:
    """The figures of period P's ЕПД (``settled`` as of the 1st of P+1, when P is charged):
    the debt before P's payments (earlier charges included), P's payments, P's charges, the
    penalty accrued in P, and the balance and penalty due on the 1st of P+1."""
    day = first_day(period + 1)
    during = _statement(settled, period, last_day(period), rates)
    after = _statement(settled, period + 1, day, rates)
    return replace(
        after,
        month=period,
        opening_balance=after.opening_balance + during.paid,
        paid=after.paid + during.paid,
        penalty_month=after.penalty_total - (during.penalty_total - during.penalty_month),
    )


async def epd_documents(
    conn: Connection,
    month: int,
    payee: Payee,
    *,
    keys: Sequence[str] | None = None,
    house: str | None = None,
    write: Callable[[str, bytes, str], None],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Gives ``write`` (account, PDF, QR payload) of every account with ledger entries (of
    ``keys`` or of ``house`` when given), in account order; returns how many."""
    from adapters.payments.epd import epd_pdf

    details = await account_details(conn, accounts=keys, house=house)
    if not details:
        return 0
    by_key = {r["key"]: r for r in details}
    chosen = list(by_key) if keys is not None or house is not None else None
    # the document of period P is drawn on the day P is charged (the 1st of the next month)
    day = first_day(month + 1)
    rates = merged(await stored_key_rates(conn))
    until = date.fromordinal(day)
    accounts = await load_accounts(conn, until, chosen)
    items = [a for a in accounts if a.id in by_key and (a.charges or a.payments)]
    accruals: dict[str, list[Any]] = {}
    period = date.fromordinal(first_day(month))
    premises = [by_key[a.id]["premise_id"] for a in items]
    for r in await month_accruals(conn, premises, period):
        accruals.setdefault(r["premise_id"], []).append(r)
    due = due_date(month, SETTINGS.due_day)
    for i, a in enumerate(items):
        try:
            settled = settle(a, day, rates, SETTINGS)
            s = epd_statement(settled, month, rates)
        except LedgerError as exc:
            raise LedgerError(f"account {a.id}: {exc}") from exc
        d = by_key[a.id]
        payer = payer_of(d, addressee=False)
        lines = service_lines(accruals.get(d["premise_id"], []))
        # ~0.2 s of drawing: off the event loop, so the API keeps answering meanwhile
        pdf, qr = await asyncio.to_thread(epd_pdf, payee, payer, s, lines, due)
        write(a.id, pdf, qr)
        if progress is not None:
            progress(i + 1, len(items))
    return len(items)


# --- the debtors views: from the saved month when there is one, else settled now (issue 19)


@dataclass(frozen=True, slots=True)
class DebtorQuery:
    """A debtors view's query: month, the day a live report is as of, house, least debt
    (kopecks), bucket; ``live``: settle now even when the month is saved."""

    month: int
    day: int
    house: str | None = None
    least: int = 0
    bucket: str | None = None
    live: bool = False


async def _saved(conn: Connection, q: DebtorQuery) -> Any:
    return None if q.live else await saved_month(conn, date.fromordinal(first_day(q.month)))


def source_json(header: Any, day: int) -> dict[str, Any]:
    """Where a view's figures come from: ``saved`` (as of its day, computed when, and what
    arrived since) or ``live`` (settled for this request, as of ``day``)."""
    if header is None:
        return {"kind": "live", "date": day_name(day)}
    return {
        "kind": "saved",
        "date": header["as_of"].isoformat(),
        "computed_at": header["computed_at"].isoformat(),
        "behind": header["as_of"].toordinal() < day,  # saved before the month's report day
        "new_payments": header["new_payments"],
        "new_accruals": header["new_run"],
        "new_key_rates": header["new_rates"],
        "new_opening_debts": header["new_opening"],
    }


def _saved_debtor(r: Any) -> Debtor:
    buckets = {k: int(r[c]) for k, c in BUCKET_COLUMNS.items()}
    return Debtor(
        r["account"], r["house_id"], r["address"], r["debt"], r["penalty_due"],
        r["closing_balance"], r["oldest_delay_days"], buckets,
    )  # fmt: skip


@dataclass(slots=True)
class DebtorsView:
    """A debtors view: the JSON, and the live statements when settled now (the page's
    collection rate reuses them)."""

    report: dict[str, Any]
    live: tuple[list[Month], list[Any]] | None = None


async def debtors_view(
    conn: Connection, q: DebtorQuery, *, offset: int = 0, limit: int | None = None,
    page_size: int | None = None,
) -> DebtorsView:  # fmt: skip
    """The debtors JSON of ``q`` with its ``source``; with ``page_size``, ``offset`` is moved
    back to the last page's when beyond it."""
    header = await _saved(conn, q)
    if header is None:
        items, details = await debtor_months(conn, q.month, q.day, q.house)
        found = chosen(debtor_list(items, details), min_debt=q.least, bucket=q.bucket)
        if page_size is not None:
            offset = min(offset, max(0, len(found) - 1) // page_size * page_size)
        view = DebtorsView(debtors_json(found, q.month, q.day, offset=offset, limit=limit))
        view.live = (items, details)
    else:
        m = header["month"]
        t = await saved_totals(conn, m, house=q.house, least=q.least, bucket=q.bucket)
        if page_size is not None:
            offset = min(offset, max(0, t["accounts"] - 1) // page_size * page_size)
        page = await saved_debtors(
            conn, m, house=q.house, least=q.least, bucket=q.bucket, offset=offset, limit=limit
        )
        sums = {"debt": t["debt"], "penalty_due": t["penalty_due"]}
        sums.update({k: t[c] for k, c in BUCKET_COLUMNS.items()})
        day = header["as_of"].toordinal()
        debtors = [_saved_debtor(r) for r in page]
        report = report_json(debtors, sums, t["accounts"], q.month, day, offset=offset, limit=limit)
        view = DebtorsView(report)
    view.report["source"] = source_json(header, q.day)
    return view


async def debtors_all(conn: Connection, q: DebtorQuery) -> tuple[list[Debtor], int]:
    """Every debtor of ``q`` (the exports) and the day they are as of."""
    header = await _saved(conn, q)
    if header is None:
        items, details = await debtor_months(conn, q.month, q.day, q.house)
        return chosen(debtor_list(items, details), min_debt=q.least, bucket=q.bucket), q.day
    rows = await saved_debtors(conn, header["month"], house=q.house, least=q.least, bucket=q.bucket)
    return [_saved_debtor(r) for r in rows], header["as_of"].toordinal()


async def collection_view(
    conn: Connection,
    q: DebtorQuery,
    count: int,
    live: tuple[list[Month], list[Any]] | None = None,
) -> dict[str, Any]:
    """The collection JSON of ``q`` with its ``source`` (``live``: statements already
    settled for the same query)."""
    header = None if live is not None else await _saved(conn, q)
    if header is None:
        items, details = live or await debtor_months(conn, q.month, q.day, q.house)
        out = collection_json(items, details, q.month, q.day, count)
    else:
        day = header["as_of"].toordinal()
        wanted = collection_periods(q.month, day, count)
        periods = [date.fromordinal(first_day(p)) for p in wanted]
        by_house: dict[str | None, dict[int, Collected]] = {}
        addresses: dict[str | None, str | None] = {}
        if q.house is not None:
            used, addresses[q.house] = await house_address(conn, q.house)
            if used:
                by_house[q.house] = {p: Collected() for p in wanted}
        for r in await saved_collection(conn, header["month"], periods, q.house):
            book = by_house.setdefault(r["house_id"], {p: Collected() for p in wanted})
            addresses[r["house_id"]] = r["address"]
            if r["period"] is not None:
                book[month_of(r["period"].toordinal())].add(Collected(r["charged"], r["paid"]))
        out = collection_report(by_house, addresses, q.month, day, wanted)
    out["source"] = source_json(header, q.day)
    return out

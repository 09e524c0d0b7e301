"""The claims workflow of a debtor (претензионно-исковая работа): its stages, the rules of moving
between them, and the debt and penalty snapshotted at each stage, from the ledger's own figures.

Stages, only forward: notice (уведомление, претензия) → warning (предупреждение об ограничении,
ПП 354 п.119) → lawyers (передано юристам) → court (иск или заявление о судебном приказе) →
writ (исполнительный лист, судебный приказ). A stage may be skipped (a court order does not
need a warning), a writ needs the court stage. A claim is closed when its debt is paid or
written off. Every event has a date: not before the previous event's, not after today.

Pure: days are date ordinals, money integer kopecks; the penalty parts are the ledger's own
(core.ledger.penalty), split by the share of the key rate and the day of payment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from core.ledger.dates import charged_on, due_date, month_of
from core.ledger.errors import LedgerError
from core.ledger.model import CHARGES, KeyRates, LedgerSettings, Settled
from core.ledger.money import format_money, half_up
from core.ledger.penalty import DENOMINATOR, W130, W300, penalty, weight
from core.ledger.statement import statement

STAGES = ("notice", "warning", "lawyers", "court", "writ")
CLOSED = "closed"
STAGE_NAMES = {
    "notice": "Уведомление (претензия)",
    "warning": "Предупреждение об ограничении (ПП 354 п.119)",
    "lawyers": "Передано юристам",
    "court": "Иск / заявление о судебном приказе",
    "writ": "Исполнительный лист / судебный приказ",
    CLOSED: "Закрыта",
}
CLOSE_REASONS = {"paid": "долг погашен", "written_off": "долг списан"}
NOTE_MAX = 1000


class ClaimError(LedgerError):
    """A claim that cannot be opened, moved or closed; ``kind`` is ``invalid`` (bad input),
    ``conflict`` (not allowed in the claim's state) or ``not-found``."""

    def __init__(self, text: str, kind: str = "invalid") -> None:
        super().__init__(text)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class PenaltyPart:
    """A part of a period's debt over a run of days with one share of the rate: the money paid
    on ``paid_on`` (None: still unpaid on the settlement date), days ``first``…``last``."""

    period: int
    amount: int  # kopecks of debt
    paid_on: int | None
    first: int
    last: int
    days: int  # delay days charged (moratorium days left out)
    share: int  # 300 (1/300) or 130 (1/130)
    rate_bp: int  # the rate applied (the key rate, capped)
    key_bp: int  # the key rate in force on the day of payment
    numerator: int  # the exact penalty × DENOMINATOR

    @property
    def kopecks(self) -> int:
        return half_up(self.numerator, DENOMINATOR)


@dataclass(frozen=True, slots=True)
class DebtLine:
    period: int
    due: int
    charge: int
    paid: int
    debt: int
    delay_days: int
    penalty: int  # the period's penalty as of the day, rounded once (the ledger's figure)
    parts: tuple[PenaltyPart, ...]


@dataclass(frozen=True, slots=True)
class Debt:
    """An account's overdue debt and penalty as of ``day``."""

    account: str
    day: int
    lines: tuple[DebtLine, ...]  # periods with a debt or a penalty, oldest first
    penalty_total: int
    penalty_paid: int

    @property
    def debt(self) -> int:
        """The debt of the periods past their due date."""
        return sum(line.debt for line in self.lines if line.debt > 0 and self.day > line.due)

    @property
    def penalty_due(self) -> int:
        return max(self.penalty_total - self.penalty_paid, 0)

    @property
    def oldest_delay(self) -> int:
        return max((line.delay_days for line in self.lines if line.debt > 0), default=0)


def _parts(
    period: int,
    due: int,
    pieces: list[tuple[int | None, int]],
    day: int,
    rates: KeyRates,
    settings: LedgerSettings,
) -> list[PenaltyPart]:
    out = []
    second = due + settings.second_stage_day
    for paid_on, amount in pieces:
        end = day if paid_on is None else paid_on
        total = weight(due, end, settings)
        if not total:
            continue
        w300 = weight(due, min(end, second - 1), settings)
        rate, key = rates.rate(end, settings), rates.key_rate(end)
        for share, w, first, last in (
            (300, w300, due + settings.grace_days + 1, min(end, second - 1)),
            (130, total - w300, second, end),
        ):
            if w:
                days = w // (W300 if share == 300 else W130)
                out.append(
                    PenaltyPart(
                        period, amount, paid_on, first, last, days, share, rate, key,
                        amount * rate * w,
                    )
                )  # fmt: skip
    return out


def debt_as_of(settled: Settled, day: int, rates: KeyRates, settings: LedgerSettings) -> Debt:
    """The account's periods with a debt or a penalty as of ``day`` (``settled`` up to it), each
    with its penalty split into parts; the totals are the ledger statement's."""
    account = settled.account
    paid_to: dict[int, list[tuple[int, int]]] = {}
    for a in settled.allocations:
        if a.to == CHARGES and a.day <= day:
            paid_to.setdefault(a.period, []).append((a.day, a.amount))
    lines = []
    for period in sorted(account.charges):
        charge = account.charges[period]
        if charge <= 0 or charged_on(period) > day:
            continue
        due = due_date(period, settings.due_day)
        paid = paid_to.get(period, [])
        paid_sum = sum(x for _, x in paid)
        debt = charge - paid_sum
        accrued = penalty(charge, due, paid, day, rates, settings)
        if debt <= 0 and accrued == 0:
            continue
        pieces: list[tuple[int | None, int]] = [(d, x) for d, x in sorted(paid)]
        if debt:
            pieces.append((None, debt))
        end = day if debt > 0 else max(d for d, _ in paid)
        lines.append(
            DebtLine(
                period, due, charge, paid_sum, debt, max(0, end - due), accrued,
                tuple(_parts(period, due, pieces, day, rates, settings)),
            )
        )  # fmt: skip
    s = statement(settled, month_of(day), day, rates, settings)
    return Debt(account.id, day, tuple(lines), s.penalty_total, s.penalty_paid)


@dataclass(frozen=True, slots=True)
class StageEvent:
    """One event of a claim: a stage reached (or ``closed``) on ``day``, with the debt and the
    penalty due on that day (kopecks)."""

    stage: str
    day: int
    debt: int
    penalty: int
    note: str = ""
    reason: str | None = None  # why a claim was closed


def ru_day(day: int) -> str:
    """A day as people read it: ``04.05.2026``."""
    return date.fromordinal(day).strftime("%d.%m.%Y")


def _note(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ClaimError(f"примечание длиннее {NOTE_MAX} символов")
    if any(ord(c) < 32 and c not in "\n\t" for c in note):
        raise ClaimError("примечание содержит управляющие символы")
    return note


def _check_day(day: int, today: int, history: Sequence[StageEvent]) -> None:
    if day > today:
        raise ClaimError(f"дата {ru_day(day)} ещё не наступила (сегодня {ru_day(today)})")
    if history and day < history[-1].day:
        last = history[-1]
        raise ClaimError(
            f"дата {ru_day(day)} раньше даты предыдущего этапа «{STAGE_NAMES[last.stage]}» "
            f"({ru_day(last.day)})"
        )


def open_event(debt: Debt, day: int, today: int, note: str = "") -> StageEvent:
    """The first event of a new claim: the notice, for an account with an overdue debt."""
    _check_day(day, today, ())
    if debt.debt <= 0:
        raise ClaimError(
            f"по счёту {debt.account} на {ru_day(day)} нет просроченного долга: "
            "претензию открыть нельзя",
            "conflict",
        )
    return StageEvent("notice", day, debt.debt, debt.penalty_due, _note(note))


def next_stages(history: Sequence[StageEvent]) -> list[str]:
    """The stages a claim with this history may move to (none when it is closed)."""
    if not history or history[-1].stage == CLOSED:
        return []
    at = STAGES.index(history[-1].stage)
    reached = {e.stage for e in history}
    return [s for s in STAGES[at + 1 :] if s != "writ" or "court" in reached]


def advance_event(
    history: Sequence[StageEvent], stage: str, debt: Debt, day: int, today: int, note: str = ""
) -> StageEvent:
    """The event of moving a claim with ``history`` to ``stage`` on ``day``."""
    if stage not in STAGES:
        raise ClaimError(f"этап {stage!r} неизвестен; этапы: {', '.join(STAGES)}")
    if not history:
        raise ClaimError("у претензии нет истории", "conflict")
    last = history[-1]
    if last.stage == CLOSED:
        raise ClaimError(f"претензия закрыта {ru_day(last.day)}: этапы не меняются", "conflict")
    if stage not in next_stages(history):
        if STAGES.index(stage) <= STAGES.index(last.stage):
            why = "этапы идут только вперёд"
        else:
            why = "исполнительный лист (судебный приказ) — только после суда"
        raise ClaimError(
            f"из этапа «{STAGE_NAMES[last.stage]}» нельзя перейти к «{STAGE_NAMES[stage]}»: {why}",
            "conflict",
        )
    _check_day(day, today, history)
    return StageEvent(stage, day, debt.debt, debt.penalty_due, _note(note))


def close_event(
    history: Sequence[StageEvent], reason: str, debt: Debt, day: int, today: int, note: str = ""
) -> StageEvent:
    """The event of closing a claim: ``paid`` needs no overdue debt left on ``day``;
    ``written_off`` needs a note (the grounds)."""
    if reason not in CLOSE_REASONS:
        raise ClaimError(f"причина {reason!r} неизвестна; причины: {', '.join(CLOSE_REASONS)}")
    if not history:
        raise ClaimError("у претензии нет истории", "conflict")
    if history[-1].stage == CLOSED:
        raise ClaimError(f"претензия уже закрыта {ru_day(history[-1].day)}", "conflict")
    _check_day(day, today, history)
    note = _note(note)
    if reason == "paid" and debt.debt > 0:
        raise ClaimError(
            f"долг не погашен: на {ru_day(day)} просрочено {format_money(debt.debt)} ₽",
            "conflict",
        )
    if reason == "written_off" and not note:
        raise ClaimError("укажите основание списания долга в примечании")
    return StageEvent(CLOSED, day, debt.debt, debt.penalty_due, note, reason)

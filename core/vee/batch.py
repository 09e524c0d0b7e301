"""The batch VEE pass: every detector over a :class:`Fleet`, anomalies out."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from core.channels import SERVICES
from core.vee.anomaly import Anomaly, meter_anomaly
from core.vee.arrays import F64, B
from core.vee.balance import BalanceTable, house_balance, persistent_imbalances
from core.vee.codes import AnomalyType, Severity
from core.vee.consumption import Consumption, derive_consumption
from core.vee.fleet import Fleet
from core.vee.flow import find_reverse_flow, sum_check
from core.vee.missing import missing_anomalies
from core.vee.settings import VeeSettings
from core.vee.spikes import find_spikes
from core.vee.stuck import find_stuck, group_index

_N_SERVICES = len(SERVICES)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Anomalies (meter anomalies by meter then time, then house anomalies), and the figures
    behind them for storage and display."""

    anomalies: list[Anomaly]
    consumption: Consumption
    balance: BalanceTable


def run_batch(
    fleet: Fleet,
    *,
    settings: VeeSettings | None = None,
    unmetered_daily: F64 | None = None,
    observed_hours: int | None = None,
) -> BatchResult:
    """Run all batch checks over one period of a fleet.

    ``unmetered_daily`` (n_houses, n_services): daily normative volume of premises without a
    meter, for the house balance. ``observed_hours``: hours from the start that have passed
    (a run of the current month): later hours are not missing data.
    """
    s = settings or VeeSettings()
    found: list[Anomaly] = []
    seen = None if observed_hours is None else observed_hours + 1
    found += missing_anomalies(fleet, fleet.register, "register", s, observed=seen)
    if fleet.interval is not None:
        has_interval = np.asarray(np.isfinite(fleet.interval).any(axis=1), dtype=bool)
        found += missing_anomalies(
            fleet, fleet.interval, "interval", s, only=has_interval, observed=observed_hours
        )
    cons = derive_consumption(
        fleet.register,
        fleet.digits,
        rollover_margin=s.rollover_margin,
        replacement_max_share=s.replacement_max_share,
        replacement_confirm_hours=s.replacement_confirm_hours,
        rollback_min_drop=s.rollback_min_drop,
    )
    found += _step_anomalies(fleet, cons)
    group = group_index(fleet.house, fleet.service, _N_SERVICES)
    stuck_days = _stuck_anomalies(fleet, cons, group, s, found)
    # A stuck run's zeros would drag the reference median down and make the first normal
    # days after it look like spikes.
    daily = _with_interval_days(cons.daily, fleet.interval)
    found += _spike_anomalies(fleet, np.where(stuck_days, np.nan, daily), s)
    if fleet.interval is not None:
        found += _flow_anomalies(fleet, cons, s)
    good = np.isfinite(daily) & ~stuck_days
    table = house_balance(
        daily,
        good,
        fleet.house,
        fleet.service,
        fleet.is_house_meter,
        n_services=_N_SERVICES,
        unmetered_daily=unmetered_daily,
    )
    found.sort(key=lambda a: (a.meter_index if a.meter_index is not None else -1, a.start))
    found += _balance_anomalies(fleet, table, s)
    return BatchResult(found, cons, table)


def _with_interval_days(daily: F64, interval: F64 | None) -> F64:
    """Daily consumption from the registers and, on days they leave unknown, from interval
    data with all 24 hours known: an ASKUE house input sends only half-hour energies, and
    without this its house balance had no house side at all."""
    if interval is None:
        return daily
    m, d = daily.shape
    summed = interval[:, : d * 24].reshape(m, d, 24).sum(axis=2)  # NaN if any hour is
    return np.where(np.isfinite(daily), daily, summed)


def settings_dict(settings: VeeSettings) -> dict[str, object]:
    """The settings as a plain mapping (for evidence and logs)."""
    return {f.name: getattr(settings, f.name) for f in fields(settings)}


def _step_anomalies(fleet: Fleet, cons: Consumption) -> list[Anomaly]:
    out = []
    for st in cons.steps:
        if st.kind is AnomalyType.REPLACEMENT:
            severity = Severity.INFO
            evidence: dict[str, object] = {"previous": st.prev, "value": st.value}
        else:
            severity = Severity.WARNING if st.returned else Severity.CRITICAL
            evidence = {
                "previous": st.prev,
                "value": st.value,
                "drop": st.prev - st.value,
                "returned": st.returned,
            }
        out.append(
            meter_anomaly(
                fleet, st.kind, st.meter, st.prev_column, st.column, severity, dict(evidence)
            )
        )
    return out


def _spike_anomalies(fleet: Fleet, daily: F64, s: VeeSettings) -> list[Anomaly]:
    sp = find_spikes(
        daily,
        spike_k=s.spike_k,
        spike_window_days=s.spike_window_days,
        spike_min_days=s.spike_min_days,
        spike_min_ratio=s.spike_min_ratio,
        skip=None if s.spike_house_meters else fleet.is_house_meter,
    )
    out = []
    for i in range(sp.meter.size):
        day = int(sp.day[i])
        ratio = float(sp.value[i] / sp.threshold[i])
        out.append(
            meter_anomaly(
                fleet,
                AnomalyType.SPIKE,
                int(sp.meter[i]),
                24 * day,
                24 * (day + 1),
                Severity.CRITICAL if ratio >= 2 else Severity.WARNING,
                {
                    "consumption": float(sp.value[i]),
                    "median": float(sp.median[i]),
                    "mad": float(sp.mad[i]),
                    "threshold": float(sp.threshold[i]),
                    "k": s.spike_k,
                    "min_ratio": s.spike_min_ratio,
                },
            )
        )
    return out


def _stuck_anomalies(
    fleet: Fleet,
    cons: Consumption,
    group: np.ndarray,
    s: VeeSettings,
    found: list[Anomaly],
) -> B:
    """Adds stuck anomalies to ``found``; returns the (M, D) mask of stuck days."""
    runs = find_stuck(
        cons.daily,
        group,
        stuck_days=s.stuck_days,
        stuck_epsilon=s.stuck_epsilon,
        n_groups=int(group.max()) + 1 if group.size else 0,
    )
    mask = np.zeros(cons.daily.shape, dtype=bool)
    for i in range(runs.meter.size):
        m, a, b = int(runs.meter[i]), int(runs.first[i]), int(runs.end[i])
        mask[m, a:b] = True
        hv = float(runs.house_volume[i])
        found.append(
            meter_anomaly(
                fleet,
                AnomalyType.STUCK,
                m,
                24 * a,
                24 * b,
                Severity.CRITICAL if b - a >= 2 * s.stuck_days else Severity.WARNING,
                {
                    "days": b - a,
                    "min_days": s.stuck_days,
                    "house_volume": None if np.isnan(hv) else hv,
                },
            )
        )
    return mask


def _flow_anomalies(fleet: Fleet, cons: Consumption, s: VeeSettings) -> list[Anomaly]:
    assert fleet.interval is not None
    out = []
    rf = find_reverse_flow(
        fleet.interval, fleet.allows_export, reverse_tolerance=s.reverse_tolerance
    )
    for i in range(rf.meter.size):
        out.append(
            meter_anomaly(
                fleet,
                AnomalyType.REVERSE_FLOW,
                int(rf.meter[i]),
                int(rf.first[i]),
                int(rf.end[i]),
                Severity.WARNING,
                {"hours": int(rf.hours[i]), "volume": float(rf.volume[i])},
            )
        )
    sc = sum_check(
        fleet.interval,
        cons.hourly,
        cons.used,
        sum_tolerance=s.sum_tolerance,
        sum_abs_tolerance=s.sum_abs_tolerance,
    )
    for m in np.flatnonzero(sc.mismatch):
        isum, rsum = float(sc.interval_sum[m]), float(sc.register_sum[m])
        base = max(abs(isum), abs(rsum))
        out.append(
            meter_anomaly(
                fleet,
                AnomalyType.SUM_MISMATCH,
                int(m),
                int(sc.first[m]),
                int(sc.end[m]),
                Severity.WARNING,
                {
                    "interval_sum": isum,
                    "register_difference": rsum,
                    "relative_difference": abs(isum - rsum) / base if base else None,
                    "hours": int(sc.hours[m]),
                    "tolerance": s.sum_tolerance,
                },
            )
        )
    return out


def _balance_anomalies(fleet: Fleet, table: BalanceTable, s: VeeSettings) -> list[Anomaly]:
    runs = persistent_imbalances(
        table,
        balance_threshold=s.balance_threshold,
        balance_persistent_days=s.balance_persistent_days,
    )
    out = []
    for i in range(runs.row.size):
        row, a, b = int(runs.row[i]), int(runs.first[i]), int(runs.end[i])
        house = int(table.house[row])
        ratios = table.ratio[row, a:b]
        mean = float(np.mean(ratios))
        hv = float(np.nansum(table.house_daily[row, a:b]))
        pv = float(np.sum(table.premises_daily[row, a:b]))
        negative = bool(runs.negative[i])
        out.append(
            Anomaly(
                type=AnomalyType.HOUSE_NEGATIVE_IMBALANCE
                if negative
                else AnomalyType.HOUSE_IMBALANCE,
                service=SERVICES[int(table.service[row])],
                start=fleet.hour_ts(24 * a),
                end=fleet.hour_ts(24 * b),
                severity=Severity.CRITICAL
                if abs(mean) >= 2 * s.balance_threshold
                else Severity.WARNING,
                house=fleet.house_name(house),
                house_index=house,
                evidence={
                    "days": b - a,
                    "mean_daily_ratio": mean,
                    "house_volume": hv,
                    "premises_volume": pv,
                    "imbalance_volume": hv - pv,
                    "period_ratio": _finite_or_none(float(table.period_ratio[row])),
                    "threshold": s.balance_threshold,
                    "premises": int(table.premises[row]),
                    "premises_with_data": int(table.covered[row]),
                    "estimated_meter_days": int(table.estimated_meter_days[row]),
                },
            )
        )
    return out


def _finite_or_none(x: float) -> float | None:
    """JSON has no NaN: an undefined figure is null."""
    return x if np.isfinite(x) else None

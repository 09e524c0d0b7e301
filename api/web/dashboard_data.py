"""What the operator dashboard shows: the store's figures (``adapters/store/dashboard.py``) and
the charts drawn from them.

Device health of Modbus pollers lives only in the gateway process (``Poller.health()``); here
a device is "offline" when the store has no reading of it for ``offline_hours``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo

from adapters.store.dashboard import (
    BalanceDay,
    BilledBalance,
    HouseImbalance,
    OfflineMeter,
    SourceHealth,
    billed_balances,
    house_address,
    house_balance_days,
    house_imbalances,
    offline_meters,
    source_health,
)
from api.web.labels import UNITS
from core.channels import CANONICAL_UNIT

__all__ = [
    "ANOMALY_TYPES",
    "SEVERITIES",
    "BalanceDay",
    "BilledBalance",
    "HouseImbalance",
    "OfflineMeter",
    "SourceHealth",
    "anomaly_rows",
    "balance_chart",
    "billed_balances",
    "house_address",
    "house_balance_days",
    "house_imbalances",
    "offline_meters",
    "source_health",
    "unit_of",
]

#: anomalies.type -> what an operator reads (codes stay in the API and the CLI)
ANOMALY_TYPES = {
    "missing_data": "нет данных",
    "consumption_spike": "всплеск расхода",
    "stuck_meter": "счётчик стоит",
    "reverse_flow": "обратный поток",
    "register_rollback": "показание уменьшилось",
    "meter_replacement": "замена счётчика",
    "sum_check_mismatch": "сумма интервалов ≠ разности показаний",
    "house_imbalance": "небаланс дома (ОДПУ больше помещений)",
    "house_negative_imbalance": "отрицательный небаланс (помещения больше ОДПУ)",
}
SEVERITIES = {"info": "к сведению", "warning": "внимание", "critical": "критично"}


def unit_of(service: str) -> str:
    """The unit a service's volumes are shown in (``м³``, ``кВт·ч``, ``Гкал``); "" if unknown."""
    unit = CANONICAL_UNIT.get(service)
    return UNITS.get(unit, unit) if unit else ""


def anomaly_rows(anomalies: Iterable[Mapping[str, object]], tz: tzinfo) -> list[dict[str, object]]:
    """Anomalies as an operator reads them: Russian type and severity, the span in local
    time (the store keeps UTC: a November anomaly starts at local midnight of 1 November, not
    "2026-10-31"), the volumes' unit. ``end`` is exclusive, so the last day is the day before
    the local end."""
    rows = []
    for a in anomalies:
        start, end = _local(a.get("start"), tz), _local(a.get("end"), tz)
        rows.append(
            {
                **a,
                "type_text": ANOMALY_TYPES.get(str(a.get("type")), a.get("type")),
                "severity_text": SEVERITIES.get(str(a.get("severity")), a.get("severity")),
                "start_local": start,
                "end_local": end,
                "unit": unit_of(str(a.get("service"))),
            }
        )
    return rows


def _local(value: object, tz: tzinfo) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(tz)
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value).astimezone(tz)
    return None


def balance_chart(days: list[BalanceDay], unit: str = "") -> dict[str, object]:
    """Chart.js data: the house meter against the sum of its premises, per day, in ``unit``
    (shown on the value axis)."""
    return {
        "unit": unit,
        "labels": [f"{d.day:%d.%m}" for d in days],
        "datasets": [
            {"label": "Общедомовой счётчик", "data": [d.house_volume for d in days]},
            {"label": "Сумма помещений", "data": [d.premises_volume for d in days]},
        ],
    }

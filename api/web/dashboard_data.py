"""What the operator dashboard shows: the store's figures (``adapters/store/dashboard.py``) and
the charts drawn from them.

Device health of Modbus pollers lives only in the gateway process (``Poller.health()``); here
a device is "offline" when the store has no reading of it for ``offline_hours``.
"""

from __future__ import annotations

from adapters.store.dashboard import (
    BalanceDay,
    HouseImbalance,
    OfflineMeter,
    SourceHealth,
    house_address,
    house_balance_days,
    house_imbalances,
    offline_meters,
    source_health,
)

__all__ = [
    "BalanceDay",
    "HouseImbalance",
    "OfflineMeter",
    "SourceHealth",
    "balance_chart",
    "house_address",
    "house_balance_days",
    "house_imbalances",
    "offline_meters",
    "source_health",
]


def balance_chart(days: list[BalanceDay]) -> dict[str, object]:
    """Chart.js data: the house meter against the sum of its premises, per day."""
    return {
        "labels": [f"{d.day:%d.%m}" for d in days],
        "datasets": [
            {"label": "Общедомовой счётчик", "data": [d.house_volume for d in days]},
            {"label": "Сумма помещений", "data": [d.premises_volume for d in days]},
        ],
    }

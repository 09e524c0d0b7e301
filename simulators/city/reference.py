"""The town as a billing reference document (docs/billing-data.md): houses, premises, meters
bound to them on their delivery path, tariffs and normatives valid from the warm-up start."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulators.city.town import CHANNEL, Town

TARIFFS = {
    "cold_water": Decimal("50.00"),
    "hot_water": Decimal("210.00"),
    "sewage": Decimal("40.05"),
    "electricity": Decimal("5.00"),
}
NORMATIVES = {
    "cold_water": "6.935",
    "hot_water": "4.745",
    "sewage": "11.68",
    "electricity": "60",
}
SOI_NORMATIVES = {"cold_water": "0.03", "hot_water": "0.03", "electricity": "1.2"}


def reference_document(town: Town) -> dict[str, Any]:
    valid_from = f"{town.spec.warmup_start:%Y-%m}"
    houses = []
    for h, hid in enumerate(town.house_ids):
        houses.append(
            {
                "id": hid,
                "address": f"г. Симбирск, ул. Моделируемая, д. {h + 1}",
                "common_area": str(int(town.common_area[h])),
                "soi_excess": "distribute" if town.soi_distribute[h] else "operator",
                "meters": [
                    {"source": "modbus", "meter": town.modbus_meters[h], "channel": "cold_water"},
                    {"source": "modbus", "meter": town.modbus_meters[h], "channel": "hot_water"},
                    {"source": "askue", "meter": town.askue_points[h], "channel": "1-0:1.8.0"},
                ],
            }
        )
    meters_of: dict[int, list[dict[str, str]]] = {}
    for m in town.premise_meters():
        meters_of.setdefault(m.premise, []).append(
            {"source": m.path, "meter": m.id, "channel": CHANNEL[m.service]}
        )
    premises = []
    for p, pid in enumerate(town.premise_ids):
        item: dict[str, Any] = {
            "id": pid,
            "house": town.house_ids[int(town.house[p])],
            "account": town.accounts[p],
            "area": town.area_text(p),
            "residential": bool(town.residential[p]),
            "residents": int(town.residents[p]),
            "owners": int(town.owners[p]),
            "meter_possible": bool(town.meter_possible[p]),
        }
        if p in meters_of:
            item["meters"] = meters_of[p]
        premises.append(item)
    return {
        "source": "mqtt",
        "houses": houses,
        "premises": premises,
        "tariffs": [{"valid_from": valid_from, **{k: str(v) for k, v in TARIFFS.items()}}],
        "normatives": [{"valid_from": valid_from, **NORMATIVES}],
        "soi_normatives": [{"valid_from": valid_from, **SOI_NORMATIVES}],
    }

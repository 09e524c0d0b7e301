"""The city replay report: ``report.json`` (deterministic from the seed), ``report.md`` and
``report.html`` (in Russian: tables, and Chart.js charts each with its sentence; the text is
in :mod:`api.city.report_text`), ``billing_errors.csv`` (every premise, service and month)
and ``timings.json`` (where the time went; not part of the report proper)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import timedelta
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from api.city.charts import Chart, figures
from api.city.replay import Replay
from api.city.report_text import CAUSE_NAMES, SERVICE_RU, UNITS, markdown
from simulators.city.attribution import CAUSES, ErrorRow, attribute, rub, summarize
from simulators.city.consumption import monthly
from simulators.city.delivery import outage_days
from simulators.city.town import CW, EL, HW

SERVICE_NAMES = {CW: "cold_water", HW: "hot_water", EL: "electricity"}


def _r(x: float) -> float:
    return round(float(x), 3)


def injected_anomalies(rep: Replay) -> list[dict[str, str]]:
    """Faults a VEE pass could see, with the anomaly type that would show each."""
    town, truth = rep.town, rep.truth
    out = []
    for m in town.premise_meters():
        if m.fault == "dead":
            out.append({"fault": "dead_meter", "expect": "missing_data", "meter": m.id})
        elif m.fault == "stuck":
            out.append({"fault": "stuck_meter", "expect": "stuck_meter", "meter": m.id})
    cw_meter = {m.premise: m for m in town.premise_meters() if m.service == CW}
    for p in np.flatnonzero(truth.premise_leak.any(axis=1)):
        cw = cw_meter.get(int(p))
        where = cw.id if cw else town.premise_ids[int(p)]
        visible = "consumption_spike" if cw is not None and cw.path == "mqtt" else "-"
        out.append({"fault": "leak_behind_meter", "expect": visible, "meter": where})
    # A house balance is compared only when every premise meter of the house has daily data
    # (MQTT here): a leak in a house with monthly-read premises is not visible to VEE.
    partial = {(m.house, m.service) for m in town.premise_meters() if m.path != "mqtt"}
    for h in np.flatnonzero(truth.network_leak.any(axis=(1, 2))):
        for service, code in (("cold_water", CW), ("hot_water", HW)):
            expect = "-" if (int(h), code) in partial else "house_imbalance"
            out.append({"fault": f"house_network_leak_{service}", "expect": expect,
                        "house": town.house_ids[int(h)], "service": service})  # fmt: skip
    for h in np.flatnonzero(truth.theft.any(axis=(1, 2))):
        expect = "-" if (int(h), EL) in partial else "house_imbalance"
        out.append({"fault": "unregistered_consumers", "expect": expect,
                    "house": town.house_ids[int(h)], "service": "electricity"})  # fmt: skip
    for meter, days in outage_days(town, truth).items():
        out.append({"fault": f"house_meter_silent_{len(days)}_days", "expect": "missing_data",
                    "meter": meter})  # fmt: skip
    return out


def _anomalies(rep: Replay) -> dict[str, Any]:
    found = rep.db["anomalies"]
    injected = injected_anomalies(rep)
    keys: set[tuple[str, ...]] = set()
    for a in found:
        keys.add((a["type"], "meter", a["meter"]))
        keys.add((a["type"], "house", a["house_id"], a["service"]))
    by_fault: dict[str, Counter[str]] = {}
    explained: set[tuple[str, ...]] = set()
    for item in injected:
        c = by_fault.setdefault(item["fault"], Counter())
        c["injected"] += 1
        if item["expect"] == "-":
            c["not_visible_to_vee"] += 1
            continue
        key = (
            (item["expect"], "meter", item["meter"])
            if "meter" in item
            else (item["expect"], "house", item["house"], item["service"])
        )
        if key in keys:
            c["detected"] += 1
            explained.add(key)
    found_by_type: Counter[str] = Counter(a["type"] for a in found)
    unexplained: Counter[str] = Counter()
    for a in found:
        if (a["type"], "meter", a["meter"]) not in explained and (
            a["type"],
            "house",
            a["house_id"],
            a["service"],
        ) not in explained:
            unexplained[a["type"]] += 1
    return {
        "injected": {k: dict(sorted(v.items())) for k, v in sorted(by_fault.items())},
        "found": dict(sorted(found_by_type.items())),
        "found_not_injected": dict(sorted(unexplained.items())),
        "by_month": {v["period"]: v["anomalies"] for v in rep.vee},
    }


def _houses(rep: Replay) -> list[dict[str, Any]]:
    town, truth = rep.town, rep.truth
    total = monthly(truth.house_total(town), truth.first_day, rep.months)
    leak = monthly(truth.network_leak + truth.theft, truth.first_day, rep.months)
    bal = {(f"{b['period']:%Y-%m}", b["house_id"], b["service"]): b for b in rep.db["balances"]}
    out = []
    for i, m in enumerate(rep.months):
        name = f"{m // 12:04d}-{m % 12 + 1:02d}"
        for h, hid in enumerate(town.house_ids):
            for s, service in SERVICE_NAMES.items():
                b = bal.get((name, hid, service))
                out.append(
                    {
                        "period": name,
                        "house": hid,
                        "service": service,
                        "true_house_volume": _r(total[h, s, i]),
                        "true_leak_or_unregistered": _r(leak[h, s, i]),
                        "metered_house_volume": None
                        if b is None or b["house_volume"] is None
                        else str(b["house_volume"]),
                        "individual_billed": None if b is None else str(b["individual_volume"]),
                        "distributed": None if b is None else str(b["distributed_volume"]),
                        "paid_by_operator": None if b is None else str(b["operator_volume"]),
                    }
                )
    return out


def build(rep: Replay) -> tuple[dict[str, Any], list[ErrorRow]]:
    town, spec = rep.town, rep.spec
    rows = attribute(town, rep.truth, rep.months, rep.db["accruals"], rep.db["balances"])
    paths = {k: v.as_dict() for k, v in rep.paths.items()}
    meters = Counter(m.path for m in town.meters)
    has = town.has_meter()
    report = {
        "city": {
            "seed": spec.seed,
            "houses": len(town.house_ids),
            "premises": town.n_premises,
            "premises_without_water_meters": int((~has[:, CW]).sum()),
            "premises_without_electricity_meter": int((~has[:, EL]).sum()),
            "meters_by_path": dict(sorted(meters.items())),
            "months": [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in rep.months],
            "warmup_months": spec.warmup_months,
            "timezone": spec.timezone,
            "faults": {k: v for k, v in vars(spec.faults).items()},
        },
        "paths": paths,
        "reconciles": all(p["reconciles"] for p in paths.values()),
        "matches_ground_truth": all(p["matches_ground_truth"] for p in paths.values()),
        "store": rep.db["store"],
        "anomalies": _anomalies(rep),
        "billing": {"runs": rep.bills, "errors": summarize(rows)},
        "house_balance": _houses(rep),
    }
    return report, rows


def write(rep: Replay, out: Path) -> dict[str, Any]:
    report, rows = build(rep)
    (out / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out / "timings.json").write_text(
        json.dumps({k: round(v, 3) for k, v in rep.timings.items()}, indent=1) + "\n",
        encoding="utf-8",
    )
    with (out / "billing_errors.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["period", "premise", "house", "service", "methods", "charged", "true",
                    "error", *CAUSES])  # fmt: skip
        for r in rows:
            w.writerow([r.period, r.premise, r.house, r.service, "+".join(r.methods),
                        rub(r.charged), rub(r.true), rub(r.error),
                        *(rub(r.causes[c]) for c in CAUSES)])  # fmt: skip
    (out / "report.md").write_text(markdown(report), encoding="utf-8")
    (out / "report.html").write_text(html(report, rep), encoding="utf-8")
    return report


def report_charts(report: dict[str, Any], rep: Replay) -> list[Chart]:
    """The error by cause and month, and the daily balance of the two houses with the most
    network leak (water) and unregistered use (electricity)."""
    e = report["billing"]["errors"]
    months = list(e["by_month"])
    charts = [
        Chart(
            "bar",
            "Ошибка начислений по причинам и месяцам",
            "₽",
            months,
            {CAUSE_NAMES[c]: [float(e["by_month"][m][c]) for m in months] for c in CAUSES},
            "Каждый столбец — ошибка месяца, сложенная из причин: выше нуля жителям начислено"
            " больше истинного потребления, ниже — меньше.",
        )
    ]
    truth, town = rep.truth, rep.town
    total = truth.house_total(town)
    daily = {(d["house_id"], d["service"], d["day"]): d for d in rep.db["daily"]}
    first_day = rep.spec.start
    n_days = (rep.spec.end - rep.spec.start).days
    offset = (first_day - truth.first_day).days
    days = [first_day + timedelta(days=i) for i in range(n_days)]
    for s, arr, what in ((CW, truth.network_leak, "утечка в сетях дома"),
                         (EL, truth.theft, "неучтённых потребителей")):  # fmt: skip
        h = int(np.argmax(arr[:, s, :].sum(axis=1)))
        hid, service = town.house_ids[h], SERVICE_NAMES[s]
        got = [daily.get((hid, service, d)) for d in days]
        premises_true = (total[h, s] - truth.common[h, s] - truth.network_leak[h, s]
                         - truth.theft[h, s])  # fmt: skip
        house_meter = [
            None if g is None or g["house_volume"] is None else g["house_volume"] for g in got
        ]
        gap = f"общедомовое потребление плюс заложенное в симуляцию ({what})"
        charts.append(
            Chart(
                "line",
                f"Баланс дома {hid}, {SERVICE_RU[service]}: объём за сутки",
                UNITS[s],
                [f"{d:%d.%m}" for d in days],
                {
                    "дом, истинно": [_r(total[h, s, offset + i]) for i in range(n_days)],
                    "домовой счётчик (после VEE)": house_meter,
                    "помещения (после VEE)": [
                        None if g is None else g["premises_volume"] for g in got
                    ],
                    "помещения, истинно": [_r(premises_true[offset + i]) for i in range(n_days)],
                },
                f"Разрыв между домовым счётчиком и суммой помещений — {gap}; VEE отмечает"
                " большой разрыв как небаланс дома, а пропуски линии — дни без данных."
                if any(v is not None for v in house_meter)
                else f"Суточных данных домового счётчика у этого дома нет, и VEE не может"
                f" сравнить баланс; разрыв между истинным потреблением дома и помещений — {gap}.",
            )
        )
    return charts


def html(report: dict[str, Any], rep: Replay) -> str:
    return page(markdown(report), report_charts(report, rep), report["city"]["seed"])


def page(md: str, charts: list[Chart], seed: int) -> str:
    """The report as one HTML file: the tables, then the charts each with its sentence."""
    return (
        "<!doctype html><html lang='ru'><head><meta charset='utf-8'>"
        f"<title>uchet: прогон города, seed {seed}</title>"
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;"
        "text-align:right}td:first-child,th:first-child{text-align:left;white-space:nowrap}"
        "figure{margin:2em 0}figcaption{font-weight:bold}.chart{height:320px}"
        ".explain{color:#444;margin:.3em 0}</style></head><body>"
        + _md_to_html(md)
        + ("<h2>Графики</h2>" if charts else "")
        + figures(charts)
        + "</body></html>\n"
    )


def _inline(text: str) -> str:
    """A line of the markdown as HTML: escaped, **bold** kept."""
    parts = escape(text).split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


def _md_to_html(md: str) -> str:
    out, in_table = [], False
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-:"):
                continue
            tag = "th" if not in_table else "td"
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<{tag}>{_inline(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("# "):
            out.append(f"<h1>{_inline(line[2:])}</h1>")
        elif line.startswith("## "):
            out.append(f"<h2>{_inline(line[3:])}</h2>")
        elif line:
            out.append(f"<p>{_inline(line)}</p>")
    if in_table:
        out.append("</table>")
    return "".join(out)

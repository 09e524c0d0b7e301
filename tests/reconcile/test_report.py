"""The report's findings and their money, computed by hand."""

from __future__ import annotations

from decimal import Decimal

from core.reconcile import AccountPremise, HouseRates, RegisterRow, reconcile

D = Decimal
ADDR = "г. Симбирск, ул. Моделируемая, д. 1"
H2_PREMISE = AccountPremise("h2-001", "h2", "г. Симбирск, ул. Садовая, д. 2", "9", D(50))
RATES = HouseRates(
    common_area=D(100),
    tariffs={"cold_water": D("50.00"), "electricity": D("5.00"), "heating": D("2000.00")},
    normatives={"cold_water": D("6.935"), "electricity": D(60), "heating": D("0.02")},
    soi_normatives={"electricity": D("1.2")},
)


def _acc(n: int, area: str, **kw: object) -> AccountPremise:
    return AccountPremise(f"h1-{n:03d}", "h1", ADDR, f"7{n}", D(area), **kw)  # type: ignore[arg-type]


def _row(line: int, flat: int, area: str | None, **kw: object) -> RegisterRow:
    return RegisterRow(line, f"{ADDR}, кв. {flat}", area=None if area is None else D(area), **kw)  # type: ignore[arg-type]


def test_each_kind_with_its_money() -> None:
    premises = [
        _acc(1, "50", residents=1, metered=frozenset({"electricity"})),
        _acc(2, "50"),
        _acc(3, "40"),  # not in the register
    ]
    rows = [
        _row(2, 1, "50", residents=3),  # 2 more people, cold water by normative
        _row(3, 2, "60"),  # area 50 -> 60
        _row(4, 4, "50", residents=2),  # no account
    ]
    r = reconcile(rows, premises, {"h1": RATES})
    by_kind = {f.kind: f for f in r.findings}
    # S_total by the register: 50 + 60 + 50 + 40 (the unregistered account) = 200
    # unbilled: СОИ 1.2 × 5 × 100 × 50/200 = 150; heating 50 × 0.02 × 2000 = 2000;
    # normative 2 × (6.935 × 50 + 60 × 5) = 1293.50
    assert by_kind["unbilled"].money == D("3443.50")
    # residents: 2 × 6.935 × 50 = 693.50 (electricity is metered)
    assert by_kind["residents"].money == D("693.50")
    # area: heating 10 × 0.02 × 2000 = 400; СОИ 600 × 60/200 - 600 × 50/140 = 180 - 214.2857
    assert by_kind["area"].money == D("434.29")
    # unregistered: СОИ 600 × 40/140 = 171.43; heating 40 × 40 = 1600
    assert by_kind["unregistered"].money == D("1771.43")
    assert [f.kind for f in r.findings] == ["unbilled", "unregistered", "residents", "area"]
    house = r.houses["h1"]
    assert (house.unbilled, house.unregistered, house.area_delta) == (1, 1, D(10))
    assert house.heating_delta == D("400.00")


def test_purpose_and_checked_findings() -> None:
    premises = [_acc(1, "50")]
    rows = [_row(2, 1, "50.04", residential=False)]  # within the area tolerance
    r = reconcile(rows, premises, {"h1": RATES})
    assert [f.kind for f in r.findings] == ["purpose"]
    key = r.findings[0].key
    again = reconcile(rows, premises, {"h1": RATES}, checked=frozenset({f"purpose|{key}"}))
    assert again.findings == []


def test_houses_with_unmetered_consumption_and_unbilled_premises_come_first() -> None:
    premises = [_acc(1, "50"), H2_PREMISE]
    rows = [
        _row(2, 1, "80"),  # area finding in h1: big money
        RegisterRow(3, "г. Симбирск, ул. Садовая, д. 2, кв. 1", area=D(50)),
        RegisterRow(4, "г. Симбирск, ул. Садовая, д. 2, кв. 2", area=D(10)),
    ]
    hot = HouseRates(common_area=D(1), unmetered_consumption=True)
    r = reconcile(rows, premises, {"h1": RATES, "h2": hot})
    assert r.findings[0].kind == "unbilled" and r.findings[0].priority
    assert r.findings[0].money == D("0.00")
    assert r.findings[1].kind == "area"


def test_houses_the_register_does_not_cover_are_not_reported() -> None:
    premises = [_acc(1, "50"), H2_PREMISE]
    r = reconcile([_row(2, 1, "50")], premises, {})
    assert r.findings == [] and r.matched == 1

"""The bulk house scoring (exact join, then cdist + numpy) gives what the rule gives one pair at
a time: the same house, score and reason for every address, typos, other street types and
cities, two houses with one name, corpus variants."""

from __future__ import annotations

import random
from decimal import Decimal

from core.addresses import Address, normalize_address
from core.reconcile.houses import Fit, HouseOptions, Houses
from core.reconcile.model import AccountPremise
from simulators.property_register import STREETS, typo

OPTIONS = HouseOptions(accept=90.0, ambiguity=3.0, street_type_penalty=15.0, city_penalty=25.0)


def _one_by_one(houses: Houses, a: Address) -> Fit:
    """The rule as a plain loop over the candidates (the reference)."""
    best: tuple[str | None, float, int] = (None, 0.0, 999)
    second = (0.0, 999)
    for hid, other in houses.by_key.get(a.house_key, []):
        score, edits = houses.score(a, other)
        if (score, -edits) > (best[1], -best[2]):
            second, best = (best[1], best[2]), (hid, score, edits)
        elif (score, -edits) > (second[0], -second[1]):
            second = (score, edits)
    if best[0] is None:
        return Fit(None, 0.0, "")
    return Fit(best[0], best[1], houses._why(a.street, (best[1], best[2]), second))


def _town(rng: random.Random) -> list[AccountPremise]:
    out = []
    for h in range(400):
        street = rng.choice(STREETS)
        kind = rng.choice(("ул.", "ул.", "пер.", "пр-кт"))
        city = rng.choice(("Симбирск", "Симбирск", "Ульяновск"))
        corpus = f", корп. {rng.randint(1, 2)}" if rng.random() < 0.2 else ""
        address = f"г. {city}, {kind} {street}, д. {rng.randint(1, 6)}{corpus}"
        out.append(AccountPremise(f"h{h}-001", f"h{h}", address, None, Decimal(50)))
    return out


def test_bulk_scores_equal_the_rule_pair_by_pair() -> None:
    rng = random.Random(7)
    premises = _town(rng)
    houses = Houses(premises, OPTIONS)
    queries = []
    for _ in range(3000):
        street = rng.choice(STREETS)
        if rng.random() < 0.5:
            street = typo(street, rng)
        if rng.random() < 0.2:
            street = typo(street, rng)
        kind = rng.choice(("ул", "пер", "", "б-р"))
        city = rng.choice(("Симбирск", "Симбирк", "Ульяновск", ""))
        text = f"{city}, {kind} {street}, {rng.randint(1, 7)}" + rng.choice(("", "к1", "к2"))
        queries.append(normalize_address(text))
    got = houses.fit_many(queries)
    want = [_one_by_one(houses, a) for a in queries]
    assert got == want
    # every path was taken: exact, bulk sure, bulk review, no house with the number
    assert any(f.score == 100.0 and not f.why for f in got)
    assert any(0 < f.score < 100.0 and not f.why for f in got)
    assert any(f.why.startswith("адрес одинаково подходит") for f in got)
    assert any(f.why.startswith("сходство адреса") for f in got)
    assert any(f.house_id is None for f in got)


def test_one_name_in_two_houses_is_never_taken_exactly() -> None:
    premises = [
        AccountPremise("a-1", "a", "г. Симбирск, ул. Лесная, д. 5", None, Decimal(1)),
        AccountPremise("b-1", "b", "г. Симбирск, ул. Лесная, д. 5", None, Decimal(1)),
        AccountPremise("c-1", "c", "г. Симбирск, пер. Лесная, д. 5", None, Decimal(1)),
    ]
    houses = Houses(premises, OPTIONS)
    (fit,) = houses.fit_many([normalize_address("Симбирск, Лесная ул, 5")])
    assert fit.house_id == "a" and fit.why.startswith("адрес одинаково подходит")
    (fit,) = houses.fit_many([normalize_address("Симбирск, Лесная пер, 5")])
    assert fit == Fit("c", 100.0, "")

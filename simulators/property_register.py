"""A town whose property register differs from its accounts in known ways, with ground truth.

The accounts hold clean addresses («г. Симбирск, ул. Садовая, д. 12»); the register writes the
same premises the ways registers do (type after the name, ``44-2``, postcode and region,
no spaces, the flat in its own column, корпус as ``12к2``) with typos in street names
(a letter dropped, doubled, swapped or a vowel confused). Then, by seed: premises with no
account, accounts the register lacks, wrong areas, other residents counts, residential and
non-residential swapped. ``truth`` holds every difference as (kind, premise id or register
line), the keys the report's findings are scored against.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from core.reconcile.model import AccountPremise, HouseRates, RegisterRow

CITY = "Симбирск"
STREETS = (
    "Моделируемая", "Советская", "Садовая", "Центральная", "Молодёжная", "Школьная",
    "Лесная", "Полевая", "Гагарина", "Ленинградская", "Пушкинская", "Октябрьская",
    "Железнодорожная", "Заречная", "Комсомольская", "Первомайская", "Строителей",
    "Энергетиков", "Профсоюзная", "Кирова", "Чапаева", "Фрунзе", "Куйбышева",
    "Луговая", "Рабочая", "Спортивная", "Северная", "Южная", "Восточная", "Западная",
)  # fmt: skip
RATES = HouseRates(
    common_area=Decimal(600),
    tariffs={"cold_water": Decimal("50.00"), "hot_water": Decimal("210.00"),
             "electricity": Decimal("5.00"), "heating": Decimal("2500.00")},
    normatives={"cold_water": Decimal("6.935"), "hot_water": Decimal("4.745"),
                "electricity": Decimal(60), "heating": Decimal("0.0198")},
    soi_normatives={"cold_water": Decimal("0.03"), "electricity": Decimal("1.2")},
)  # fmt: skip
_VOWELS = {"а": "о", "о": "а", "е": "и", "и": "е", "я": "а", "ы": "и"}


@dataclass(frozen=True, slots=True)
class TownSpec:
    houses: int = 200
    flats: int = 40
    seed: int = 1
    typo_rate: float = 0.3  # register rows whose street name has a typo
    missing_accounts: float = 0.02
    unregistered: float = 0.01
    wrong_area: float = 0.03
    residents: float = 0.03
    purpose: float = 0.005


@dataclass(slots=True)
class Town:
    premises: list[AccountPremise] = field(default_factory=list)
    rows: list[RegisterRow] = field(default_factory=list)
    rates: dict[str, HouseRates] = field(default_factory=dict)
    truth: set[tuple[str, str]] = field(default_factory=set)
    row_premise: dict[int, str] = field(default_factory=dict)  # line -> the premise it is


def typo(name: str, rng: random.Random) -> str:
    """One realistic slip in a street name (never in its first letter)."""
    if len(name) < 6:
        return name
    i = rng.randrange(1, len(name) - 1)
    how = rng.randrange(4)
    if how == 0:
        return name[:i] + name[i + 1 :]
    if how == 1:
        return name[:i] + name[i] + name[i:]
    if how == 2:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    vowels = [k for k, c in enumerate(name) if c in _VOWELS and k > 0]
    if not vowels:
        return name[:i] + name[i + 1 :]
    k = rng.choice(vowels)
    return name[:k] + _VOWELS[name[k]] + name[k + 1 :]


def _written(
    street: str, number: str, corpus: str, flat: int, rng: random.Random
) -> tuple[str, str]:
    """(address, premise column) of a register row, in one of the ways registers write it."""
    house = number + (f"к{corpus}" if corpus else "")
    house_long = f"д. {number}" + (f", корп. {corpus}" if corpus else "")
    style = rng.randrange(5)
    if style == 0:
        return f"г. {CITY}, ул. {street}, {house_long}, кв. {flat}", ""
    if style == 1:
        return f"{CITY} г, {street} ул, {house}-{flat}", ""
    if style == 2:
        return (
            f"432000, Симбирская обл., г {CITY}, улица {street}, дом {number}"
            + (f" корпус {corpus}" if corpus else "")
            + f", квартира {flat}",
            "",
        )
    if style == 3:
        return f"г.{CITY},ул.{street},{house_long.replace(' ', '')},кв.{flat}", ""
    return f"{CITY}, {street} ул., {house}", f"кв. {flat}"


def make_town(spec: TownSpec) -> Town:
    rng = random.Random(spec.seed)
    town = Town()
    line = 1
    for h in range(spec.houses):
        street = STREETS[h % len(STREETS)]
        number = str(h // len(STREETS) + 1)
        corpus = str(rng.randint(1, 3)) if rng.random() < 0.1 else ""
        hid = f"h{h:05d}"
        town.rates[hid] = RATES
        address = f"г. {CITY}, ул. {street}, д. {number}" + (f", корп. {corpus}" if corpus else "")
        for f in range(1, spec.flats + 1):
            pid = f"{hid}-{f:03d}"
            area = Decimal(rng.randint(250, 1200)) / 10
            residents = rng.randint(0, 4)
            owners = rng.randint(1, 3)
            acc_area, acc_res, acc_purpose = area, residents, True
            r = rng.random()
            kinds = spec.missing_accounts, spec.unregistered, spec.wrong_area, spec.residents
            edges = [sum(kinds[: k + 1]) for k in range(len(kinds))] + [sum(kinds) + spec.purpose]
            if r < edges[0]:
                kind = "unbilled"
            elif r < edges[1]:
                kind = "unregistered"
                town.truth.add(("unregistered", pid))
            elif r < edges[2]:
                kind = "area"
                acc_area = area + Decimal(rng.choice((-1, 1)) * rng.randint(10, 150)) / 10
                town.truth.add(("area", pid))
            elif r < edges[3]:
                kind = "residents"
                acc_res = (residents + rng.randint(1, 3)) % 5
                if (acc_res or owners) == (residents or owners):
                    acc_res = residents + 5
                town.truth.add(("residents", pid))
            elif r < edges[4]:
                kind = "purpose"
                acc_purpose = False
                town.truth.add(("purpose", pid))
            else:
                kind = ""
            if kind != "unbilled":
                town.premises.append(
                    AccountPremise(pid, hid, address, f"{7_100_000_000 + len(town.premises)}",
                                   acc_area, acc_purpose, acc_res, owners)
                )  # fmt: skip
            if kind != "unregistered":
                line += 1
                if kind == "unbilled":
                    town.truth.add(("unbilled", str(line)))
                written_street = typo(street, rng) if rng.random() < spec.typo_rate else street
                text, premise = _written(written_street, number, corpus, f, rng)
                town.rows.append(
                    RegisterRow(line, text, premise, area=area, residential=True,
                                owners=owners, residents=residents, file="register.csv")
                )  # fmt: skip
                if kind != "unbilled":
                    town.row_premise[line] = pid
    return town


def write_register_csv(town: Town, path: Path) -> None:
    """The register in the ``municipal_premises`` layout (``uchet reconcile import``)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(("Адрес", "Номер помещения", "Площадь", "Назначение", "Собственников",
                      "Зарегистрировано"))  # fmt: skip
        for r in town.rows:
            purpose = "жилое" if r.residential else "нежилое"
            out.writerow((r.address, r.premise, r.area, purpose, r.owners, r.residents))

"""Which premise with an account each register row is: by an operator's confirmed decision,
cadastral number, ГАР/ФИАС GUID, then by address (house fuzzy, flat exact), always with a score.

Addresses are normalized (:mod:`core.addresses`); houses are compared only with account
houses of the same number, корпус and строение, and among those by the Damerau-Levenshtein
similarity of street names (0-100; a different street type or city costs points). A row is
matched when its best house scores from ``accept``, or when its street is one edit (two for
names of 10 letters or more) from that house's street and no other candidate is within two
more edits: a typo with one explanation. Otherwise it is never matched silently: from
``review`` up it is proposed for review with its candidate, below it is unmatched.
A house number is never fuzzed: «д. 4» and «д. 44» are two houses.
Each distinct house address is scored once, so a million rows of a few thousand houses cost
a few thousand fuzzy searches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein

from core.addresses import (
    Address,
    flat_from_premise_id,
    normalize_address,
    normalize_cadastral,
    normalize_flat,
    normalize_guid,
    split_flat,
)
from core.reconcile.model import AccountPremise, RegisterRow

MATCHED, REVIEW, UNMATCHED, DUPLICATE = "matched", "review", "unmatched", "duplicate"


@dataclass(frozen=True, slots=True)
class MatchOptions:
    accept: float = 90.0
    """House score (0-100) from which an address match is taken without review."""
    review: float = 70.0
    """House score from which a candidate is proposed for review; below it: unmatched."""
    ambiguity: float = 3.0
    """A runner-up house within this many points of the best makes the match a review."""
    street_type_penalty: float = 15.0
    city_penalty: float = 25.0


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome for one register row (``row`` indexes the rows given)."""

    row: int
    premise: int  # index into the premises given; -1: none
    score: float
    status: str  # matched | review | unmatched | duplicate
    how: str  # confirmed | cadastral | fias | address | none
    house_id: str | None  # the account house the row's address fits best (score ≥ review)
    reason: str = ""


def row_key(row: RegisterRow) -> str:
    """A register row's identity across imports (for operators' decisions): its cadastral
    number, else its ГАР GUID, else its normalized address with the premise number."""
    cadastral = normalize_cadastral(row.cadastral or "")
    if cadastral:
        return f"cad:{cadastral}"
    guid = normalize_guid(row.fias or "")
    if guid:
        return f"fias:{guid}"
    house, flat = split_flat(row.address)
    address = normalize_address(house)
    flat = normalize_flat(row.premise) if row.premise else flat or address.flat
    return f"addr:{replace(address, flat='').text()}|{flat}"


class _Houses:
    """The account houses, indexed by (number, корпус, строение), scored against addresses."""

    def __init__(self, premises: Sequence[AccountPremise], options: MatchOptions) -> None:
        self.options = options
        self.by_key: dict[tuple[str, str, str], list[tuple[str, Address]]] = {}
        seen: set[str] = set()
        for p in premises:
            if p.house_id in seen:
                continue
            seen.add(p.house_id)
            address = normalize_address(p.house_address)
            self.by_key.setdefault(address.house_key, []).append((p.house_id, address))
        self._cache: dict[Address, tuple[str | None, float, str]] = {}

    def score(self, a: Address, b: Address) -> tuple[float, int]:
        """(similarity 0-100 after penalties, edits between the street names)."""
        o = self.options
        if a.street == b.street:
            score, edits = 100.0, 0
        else:
            edits = DamerauLevenshtein.distance(a.street, b.street)
            score = 100.0 * (1 - edits / max(len(a.street), len(b.street)))
        if a.street_type and b.street_type and a.street_type != b.street_type:
            score -= o.street_type_penalty
            edits += 99
        if a.city and b.city and a.city != b.city and fuzz.ratio(a.city, b.city) < 85:
            score -= o.city_penalty
            edits += 99
        return max(score, 0.0), edits

    def best(self, address: Address) -> tuple[str | None, float, str]:
        """(house id, score, why a review: "" when sure) of the account house ``address``
        fits best. Sure: a score from ``accept``, or a street a few edits (transpositions
        count one) from the only name that near: nobody else within two more edits."""
        key = Address(address.city, address.street, address.street_type, *address.house_key)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        o = self.options
        best: tuple[str | None, float, int] = (None, 0.0, 999)
        second = (0.0, 999)
        for house_id, other in self.by_key.get(address.house_key, []):
            score, edits = self.score(address, other)
            if (score, -edits) > (best[1], -best[2]):
                second = (best[1], best[2])
                best = (house_id, score, edits)
            elif (score, -edits) > (second[0], -second[1]):
                second = (score, edits)
        why = ""
        if best[0] is not None:
            allowed = 1 if len(address.street) < 10 else 2
            unique = second[1] >= best[2] + 2
            if best[1] - second[0] < o.ambiguity:
                why = f"two account houses fit equally ({best[1]:.0f} and {second[0]:.0f})"
            elif best[1] < o.accept and not (best[2] <= allowed and unique):
                why = f"address similarity {best[1]:.0f} < {o.accept:.0f}"
        hit = (best[0], best[1], why)
        self._cache[key] = hit
        return hit


def match_register(
    rows: Sequence[RegisterRow],
    premises: Sequence[AccountPremise],
    *,
    options: MatchOptions | None = None,
    confirmed: Mapping[str, str] | None = None,
) -> list[Match]:
    """One :class:`Match` per row, in the rows' order (see the module for the rules).

    ``confirmed`` maps :func:`row_key` of a row to the premise id an operator confirmed."""
    return match_with_keys(rows, premises, options=options, confirmed=confirmed)[0]


def match_with_keys(
    rows: Sequence[RegisterRow],
    premises: Sequence[AccountPremise],
    *,
    options: MatchOptions | None = None,
    confirmed: Mapping[str, str] | None = None,
) -> tuple[list[Match], list[str]]:
    """The matches and the :func:`row_key` of every row (computed on the way, once)."""
    o = options or MatchOptions()
    confirmed = confirmed or {}
    by_id = {p.premise_id: i for i, p in enumerate(premises)}
    by_cadastral: dict[str, int] = {}
    by_guid: dict[str, int] = {}
    by_flat: dict[tuple[str, str], int] = {}
    flatless: dict[str, list[int]] = {}
    for i, p in enumerate(premises):
        if p.cadastral and (c := normalize_cadastral(p.cadastral)):
            by_cadastral[c] = i
        if p.fias and (g := normalize_guid(p.fias)):
            by_guid[g] = i
        flat = flat_from_premise_id(p.premise_id)
        if flat:
            by_flat.setdefault((p.house_id, flat), i)
        else:
            flatless.setdefault(p.house_id, []).append(i)
    houses = _Houses(premises, o)
    parsed: dict[str, tuple[Address, str]] = {}
    keys: list[str] = []
    taken: dict[int, int] = {}  # premise -> the row that took it
    out: list[Match] = []
    leftover: dict[str, list[int]] = {}  # house -> rows without a flat match (for flatless)

    def take(r: int, i: int, score: float, status: str, how: str, reason: str = "") -> Match:
        if status == MATCHED and i in taken:
            return Match(
                r, i, score, DUPLICATE, how, premises[i].house_id,
                f"the same premise as {rows[taken[i]].where}",
            )  # fmt: skip
        if status == MATCHED:
            taken[i] = r
        return Match(r, i, score, status, how, premises[i].house_id, reason)

    for r, row in enumerate(rows):
        c = normalize_cadastral(row.cadastral) if row.cadastral else None
        g = normalize_guid(row.fias) if row.fias and not c else None
        address = None
        flat = ""
        if c:
            key = f"cad:{c}"
        elif g:
            key = f"fias:{g}"
        else:
            house_text, flat = split_flat(row.address)
            hit = parsed.get(house_text)
            if hit is None:
                a = normalize_address(house_text)
                hit = (a, replace(a, flat="").text())
                if len(parsed) < 2_000_000:
                    parsed[house_text] = hit
            address, text = hit
            flat = normalize_flat(row.premise) if row.premise else (flat or address.flat)
            key = f"addr:{text}|{flat}"
        keys.append(key)
        if confirmed and (pid := confirmed.get(key)) is not None and pid in by_id:
            out.append(take(r, by_id[pid], 100.0, MATCHED, "confirmed"))
            continue
        if c and c in by_cadastral:
            out.append(take(r, by_cadastral[c], 100.0, MATCHED, "cadastral"))
            continue
        if g and g in by_guid:
            out.append(take(r, by_guid[g], 100.0, MATCHED, "fias"))
            continue
        if address is None:
            house_text, flat = split_flat(row.address)
            address = normalize_address(house_text)
            flat = normalize_flat(row.premise) if row.premise else (flat or address.flat)
        house_id, score, why = houses.best(address)
        if house_id is None or score < o.review:
            reason = "no account house with this number" if house_id is None else (
                f"the nearest account house scores {score:.0f}"
            )  # fmt: skip
            out.append(Match(r, -1, score, UNMATCHED, "none", None, reason))
            continue
        status = REVIEW if why else MATCHED
        i = by_flat.get((house_id, flat), -1) if flat else -1
        if i >= 0:
            out.append(take(r, i, score, status, "address", why))
        else:
            out.append(Match(r, -1, score, status, "none", house_id, why or f"no premise {flat!r}"))
            leftover.setdefault(house_id, []).append(len(out) - 1)
    # premises whose id carries no flat number (a shop): proposed to the one leftover
    # non-residential row of their house, for review, never taken silently
    for house_id, free in flatless.items():
        free = [i for i in free if i not in taken]
        left = [k for k in leftover.get(house_id, []) if rows[out[k].row].residential is False]
        if len(free) == 1 and len(left) == 1:
            m = out[left[0]]
            out[left[0]] = Match(
                m.row, free[0], m.score, REVIEW, "address", house_id,
                "the only non-residential premise of the house without a number on both sides",
            )  # fmt: skip
    return out, keys

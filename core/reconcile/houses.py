"""The account houses, indexed by (number, корпус, строение), and which of them a register
address is: exact street names joined first, the rest scored in bulk (rapidfuzz ``cdist`` over
the houses that share the house key, each distinct pair of names once; numpy for the
penalties and the two best).

Street names are compared by Damerau-Levenshtein similarity (0-100; a different street type or
city costs points). Sure: a score from ``accept``, or a street a few edits (transpositions
count one) from the only name that near: nobody else within two more edits. A runner-up
within ``ambiguity`` points makes it a review whatever the score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from core.addresses import Address, normalize_address
from core.reconcile.model import AccountPremise

HouseKey = tuple[str, str, str]
_BIG = 50_000
"""From this many distinct pairs of names the distances are computed by two threads."""


class Fit(NamedTuple):
    """The account house an address fits best: None when no house has its number."""

    house_id: str | None
    score: float
    why: str  # why a review ("" when sure)


class HouseOptions(NamedTuple):
    accept: float
    ambiguity: float
    street_type_penalty: float
    city_penalty: float


class Houses:
    """The account houses of ``premises`` (each house once, by its first premise's address)."""

    def __init__(self, premises: Sequence[AccountPremise], options: HouseOptions) -> None:
        self.options = options
        self.by_key: dict[HouseKey, list[tuple[str, Address]]] = {}
        seen: set[str] = set()
        for p in premises:
            if p.house_id in seen:
                continue
            seen.add(p.house_id)
            address = normalize_address(p.house_address)
            self.by_key.setdefault(address.house_key, []).append((p.house_id, address))
        self._streets: dict[HouseKey, dict[str, list[int]]] = {}
        self._cities: dict[tuple[str, str], bool] = {}

    def _city_differs(self, a: str, b: str) -> bool:
        if not a or not b or a == b:
            return False
        hit = self._cities.get((a, b))
        if hit is None:
            hit = self._cities[a, b] = fuzz.ratio(a, b) < 85
        return hit

    def score(self, a: Address, b: Address) -> tuple[float, int]:
        """(similarity 0-100 after penalties, edits between the street names + 99 per
        penalty): the rule, one pair at a time (``fit_many`` computes the same in bulk)."""
        o = self.options
        if a.street == b.street:
            score, edits = 100.0, 0
        else:
            edits = DamerauLevenshtein.distance(a.street, b.street)
            score = 100.0 * (1 - edits / max(len(a.street), len(b.street)))
        if a.street_type and b.street_type and a.street_type != b.street_type:
            score -= o.street_type_penalty
            edits += 99
        if self._city_differs(a.city, b.city):
            score -= o.city_penalty
            edits += 99
        return max(score, 0.0), edits

    def _why(self, street: str, best: tuple[float, int], second: tuple[float, int]) -> str:
        o = self.options
        allowed = 1 if len(street) < 10 else 2
        unique = second[1] >= best[1] + 2
        if best[0] - second[0] < o.ambiguity:
            return f"адрес одинаково подходит к двум домам учёта ({best[0]:.0f} и {second[0]:.0f})"
        if best[0] < o.accept and not (best[1] <= allowed and unique):
            return f"сходство адреса {best[0]:.0f} < {o.accept:.0f}"
        return ""

    def _exact(self, key: HouseKey, address: Address) -> Fit | None:
        """The fit of an address whose street an account house of its key has verbatim, when
        that settles it: that house alone scores 100 and no other name can come within
        ``ambiguity`` (one edit costs a name of n letters at least 100/(n+1) points)."""
        cands = self.by_key[key]
        streets = self._streets.get(key)
        if streets is None:
            streets = self._streets[key] = {}
            for j, (_, c) in enumerate(cands):
                streets.setdefault(c.street, []).append(j)
        same = streets.get(address.street)
        if same is None or 100.0 / (len(address.street) + 1) < self.options.ambiguity:
            return None
        scores = [self.score(address, cands[j][1])[0] for j in same]
        top = [j for j, s in zip(same, scores, strict=True) if s == 100.0]
        if len(top) != 1 or sorted(scores)[-2:-1] > [100.0 - self.options.ambiguity]:
            return None
        return Fit(cands[top[0]][0], 100.0, "")

    def fit_many(self, addresses: Sequence[Address]) -> list[Fit]:
        """The fit of each address (see the module), in their order."""
        out: list[Fit] = [Fit(None, 0.0, "")] * len(addresses)
        groups: dict[HouseKey, list[int]] = {}
        for k, a in enumerate(addresses):
            key = a.house_key
            if key not in self.by_key:
                continue
            exact = self._exact(key, a)
            if exact is not None:
                out[k] = exact
            else:
                groups.setdefault(key, []).append(k)
        distances = self._distances(
            [([addresses[k].street for k in ks], self.by_key[key]) for key, ks in groups.items()]
        )
        for (key, ks), edits in zip(groups.items(), distances, strict=True):
            self._fit_group(self.by_key[key], [addresses[k] for k in ks], ks, out, edits)
        return out

    @staticmethod
    def _distances(
        groups: list[tuple[list[str], list[tuple[str, Address]]]],
    ) -> list[np.ndarray]:
        """The street edit distances (queries × candidates) of each group, every distinct pair
        of names computed once over all groups: a misspelling seen in many houses of one number
        range costs one row of distances, not one per house."""
        names: dict[str, int] = {}
        codes: list[np.ndarray] = []
        for qs, cands in groups:
            q = np.array([names.setdefault(s, len(names)) for s in qs], dtype=np.int64)
            c = np.array([names.setdefault(b.street, len(names)) for _, b in cands], dtype=np.int64)
            codes.append((q[:, None] * (1 << 31) + c[None, :]).reshape(-1))
        if not codes:
            return []
        unique, inverse = np.unique(np.concatenate(codes), return_inverse=True)
        text = list(names)
        first = [text[i] for i in (unique >> 31).tolist()]
        second = [text[i] for i in (unique & ((1 << 31) - 1)).tolist()]
        found = process.cpdist(
            first, second, scorer=DamerauLevenshtein.distance, dtype=np.int32,
            workers=2 if len(first) >= _BIG else 1,
        ).astype(np.int64)[inverse.reshape(-1)]  # fmt: skip
        out, at = [], 0
        for (qs, cands), code in zip(groups, codes, strict=True):
            out.append(found[at : at + len(code)].reshape(len(qs), len(cands)))
            at += len(code)
        return out

    def _fit_group(
        self,
        cands: list[tuple[str, Address]],
        queries: list[Address],
        ks: list[int],
        out: list[Fit],
        edits: np.ndarray,
    ) -> None:
        o = self.options
        qs = [q.street for q in queries]
        cs = [c.street for _, c in cands]
        longest = np.maximum(
            np.array([len(s) for s in qs])[:, None], np.array([len(s) for s in cs])[None, :]
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(edits == 0, 100.0, 100.0 * (1 - edits / np.maximum(longest, 1)))
        types = {t: i for i, t in enumerate({"", *(q.street_type for q in queries)})}
        tq = np.array([types[q.street_type] for q in queries])
        tc = np.array([types.get(c.street_type, -1) for _, c in cands])
        other_type = (tq[:, None] != tc[None, :]) & (tq[:, None] != types[""])
        other_type &= tc[None, :] != types[""]
        score = np.where(other_type, score - o.street_type_penalty, score)
        edits = edits + 99 * other_type
        qcity, qc = np.unique([q.city for q in queries], return_inverse=True)
        ccity, cc = np.unique([c.city for _, c in cands], return_inverse=True)
        differs = np.array(
            [[self._city_differs(a, b) for b in ccity.tolist()] for a in qcity.tolist()],
            dtype=bool,
        ).reshape(len(qcity), len(ccity))
        other_city = differs[qc.reshape(-1)[:, None], cc.reshape(-1)[None, :]]
        score = np.where(other_city, score - o.city_penalty, score)
        edits = edits + 99 * other_city
        score = np.maximum(score, 0.0)
        order = np.lexsort((edits, -score), axis=-1)
        rows = np.arange(len(queries))
        first = order[:, 0]
        s1, e1 = score[rows, first], edits[rows, first]
        if len(cands) > 1:
            s2, e2 = score[rows, order[:, 1]], edits[rows, order[:, 1]]
        else:
            s2, e2 = np.zeros(len(queries)), np.full(len(queries), 999)
        for n, k in enumerate(ks):
            best = (float(s1[n]), int(e1[n]))
            why = self._why(qs[n], best, (float(s2[n]), int(e2[n])))
            out[k] = Fit(cands[int(first[n])][0], best[0], why)

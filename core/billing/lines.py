"""Accrual lines written chunk by chunk into their columns, then rounded once per chunk.

A chunk is one (period, service, method) with a scalar or per-line denominator. Premise and
volume go straight into one block per period, allocated for the most lines a period can have
(untouched memory costs nothing), so no chunk is copied or stacked; rounding per chunk lets
most lines divide by one scalar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from core.billing.exact import decimal_parts, is_wide, narrow, round_into
from core.billing.model import Accruals, BoolArray, Int64Array


@dataclass(frozen=True)
class _Chunk:
    block: int
    start: int
    end: int
    period: int
    service: int
    method: int
    den: Int64Array | int
    increased: BoolArray | bool
    #: (premise, num) of a chunk kept apart from the blocks: exact Python integers
    own: tuple[Int64Array, Int64Array] | None = None


class Lines:
    """Accrual lines in the order they are claimed; ``capacity`` bounds the lines of one
    period. With ``wide`` the volumes are object arrays of Python integers (the exact
    fallback when int64 is not provably enough); a chunk of Python integers added to int64
    lines is kept apart."""

    def __init__(self, capacity: int, wide: bool = False) -> None:
        self.capacity = capacity
        self.wide = wide
        self.blocks: list[tuple[Int64Array, Int64Array]] = []
        self.used = 0
        self.chunks: list[_Chunk] = []
        self.apart = False

    def claim(
        self,
        period: int,
        n: int,
        service: int,
        method: int,
        den: Int64Array | int,
        increased: BoolArray | bool = False,
    ) -> tuple[Int64Array, Int64Array]:
        """Room for ``n`` lines: the (premise, num) slices the caller fills."""
        if (
            not self.blocks
            or self.chunks[-1].period != period
            or self.used + n > len(self.blocks[-1][0])
        ):
            size = max(self.capacity, n)
            nums = np.zeros(size, dtype=object) if self.wide else np.empty(size, dtype=np.int64)
            self.blocks.append((np.empty(size, dtype=np.int64), nums))
            self.used = 0
        start, self.used = self.used, self.used + n
        block = len(self.blocks) - 1
        self.chunks.append(_Chunk(block, start, self.used, period, service, method, den, increased))
        premise, num = self.blocks[block]
        return premise[start : self.used], num[start : self.used]

    def add(
        self,
        period: int,
        premise: Int64Array,
        service: int,
        method: int,
        num: Int64Array,
        den: Int64Array | int,
        increased: BoolArray | bool = False,
    ) -> None:
        if premise.size and is_wide(num) and not self.wide:
            own = (np.array(premise, dtype=np.int64), np.asarray(num))
            block = len(self.blocks) - 1
            self.chunks.append(
                _Chunk(block, 0, premise.size, period, service, method, den, increased, own)
            )
            self.apart = True
            return
        if premise.size:
            p, v = self.claim(period, premise.size, service, method, den, increased)
            p[...] = premise
            v[...] = num

    def _columns(self) -> tuple[Int64Array, Int64Array]:
        if self.apart:
            parts = [
                c.own
                if c.own is not None
                else (
                    self.blocks[c.block][0][c.start : c.end],
                    self.blocks[c.block][1][c.start : c.end],
                )
                for c in self.chunks
            ]
            return (
                np.concatenate([p for p, _ in parts]),
                np.concatenate([v.astype(object) for _, v in parts]),
            )
        ends = [0] * len(self.blocks)
        for c in self.chunks:
            if c.own is None:
                ends[c.block] = c.end
        if len(self.blocks) == 1:
            return self.blocks[0][0][: ends[0]], self.blocks[0][1][: ends[0]]
        if not self.blocks:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return (
            np.concatenate([b[0][:e] for b, e in zip(self.blocks, ends, strict=True)]),
            np.concatenate([b[1][:e] for b, e in zip(self.blocks, ends, strict=True)]),
        )

    def accruals(self, tariffs: Mapping[int, Decimal], coefficient: Decimal) -> Accruals:
        """The columns, with volumes (10**-6) and amounts (kopecks) rounded half-up."""
        premise, num = self._columns()
        n = premise.size
        period, service, method, volume, amount = (np.empty(n, dtype=np.int64) for _ in range(5))
        wide_den = any(is_wide(c.den) for c in self.chunks)
        den = np.zeros(n, dtype=object) if wide_den else np.empty(n, dtype=np.int64)
        increased = np.empty(n, dtype=np.bool_)
        pos = 0
        for c in self.chunks:
            end = pos + c.end - c.start
            if end == pos:
                continue
            part = slice(pos, end)
            period[part] = c.period
            service[part] = c.service
            method[part] = c.method
            den[part] = c.den
            increased[part] = c.increased
            values = num[part]
            if values.dtype == object:
                values = narrow(values)
            bounds = int(values.min()), int(values.max())
            round_into(volume[part], values, c.den, 10**6, 1, bounds)
            t_int, t_pow = decimal_parts(tariffs[c.service] * Decimal(1))
            round_into(amount[part], values, c.den, t_int * 100, 10**t_pow, bounds)
            if np.any(c.increased):
                # the coefficient K applies to some lines of the chunk only
                up = np.flatnonzero(np.broadcast_to(c.increased, values.shape))
                k_int, k_pow = decimal_parts(tariffs[c.service] * coefficient)
                dens = c.den if isinstance(c.den, int) else c.den[up]
                out = np.empty(up.size, dtype=np.int64)
                round_into(out, values[up], dens, k_int * 100, 10**k_pow)
                amount[pos + up] = out
            pos = end
        if num.dtype == object:
            num = narrow(num)
        if den.dtype == object:
            den = narrow(den)
        return Accruals(period, premise, service, method, num, den, increased, volume, amount)

"""Accrual lines as a PostgreSQL binary COPY stream, with no Python work per line but the
UTF-8 encoding of its explanation.

Columns go in the order (period, premise_id, service, method, tariff, coefficient, volume,
amount, run_id, explanation): a row is then four pieces, ``premise[p]`` (field count, period,
premise id: one bytes object per premise), ``combo[k]`` (service, method, tariff,
coefficient: one per combination), a fixed-width record built by numpy for all lines at once
(volume and amount as binary numerics, run id, the explanation's length) and the
explanation's bytes; one ``bytes.join`` of the four piece lists, interleaved by numpy slicing,
makes a chunk.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

import numpy as np

from core.billing.model import Int64Array

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
_PG_EPOCH = date(2000, 1, 1)
#: base-10000 digits of the integer part: up to 10**16 (volume numeric(20,6) holds 10**14)
_INT_GROUPS = 4


def _numeric_dtype(scale: int) -> tuple[np.dtype, int]:
    nd = _INT_GROUPS + (scale + 3) // 4
    return np.dtype([("len", ">i4"), ("head", ">i2", (4,)), ("d", ">i2", (nd,))]), nd


def numeric_records(units: Int64Array, scale: int) -> np.ndarray:
    """``units / 10**scale`` per element as fixed-width binary numeric fields (length
    included); leading and trailing zero digits are stripped by the server on receipt."""
    dtype, nd = _numeric_dtype(scale)
    frac_groups = nd - _INT_GROUPS
    a = np.abs(units.astype(np.int64))
    whole, frac = np.divmod(a, 10**scale)
    frac = frac * 10 ** (frac_groups * 4 - scale)
    out = np.empty(units.size, dtype=dtype)
    out["len"] = 8 + 2 * nd
    out["head"] = (nd, _INT_GROUPS - 1, 0, scale)
    out["head"][:, 2] = np.where(units < 0, 0x4000, 0)
    for j in range(_INT_GROUPS):
        out["d"][:, j] = (whole // 10 ** (4 * (_INT_GROUPS - 1 - j))) % 10**4
    for j in range(frac_groups):
        out["d"][:, _INT_GROUPS + j] = (frac // 10 ** (4 * (frac_groups - 1 - j))) % 10**4
    return out


def premise_heads(period: date, premise_ids: Sequence[str]) -> np.ndarray:
    """Per premise: the row's field count, the period and the premise id (object array)."""
    head = struct.pack(">hii", 10, 4, (period - _PG_EPOCH).days)
    out = np.empty(len(premise_ids), dtype=object)
    out[:] = [head + _text(p) for p in premise_ids]
    return out


def _text(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">i", len(data)) + data


def accrual_chunks(
    *,
    heads: np.ndarray,
    premise: Int64Array,
    combo: Sequence[bytes],
    combo_of: Int64Array,
    volume_micro: Int64Array,
    amount_kopecks: Int64Array,
    texts: Iterable[list[str]],
    run_id: int,
    chunk: int = 100_000,
) -> Iterator[bytes]:
    """The binary COPY stream of ``accruals`` rows in chunks of about ``chunk`` lines
    (signature first, trailer last); ``heads`` from :func:`premise_heads`,
    ``combo[combo_of[i]]`` the encoded service, method, tariff and coefficient fields of line
    i; ``texts`` the explanations in line order, in lists of any length, taken as needed (so
    they may be written while the first rows are sent)."""
    combos = np.empty(len(combo), dtype=object)
    combos[:] = list(combo)
    vol = numeric_records(volume_micro, 6)
    amt = numeric_records(amount_kopecks, 2)
    fixed = np.dtype([("vol", vol.dtype), ("amt", amt.dtype), ("run", ">i4", (3,)), ("len", ">i4")])
    run = struct.unpack(">3i", struct.pack(">iq", 8, run_id))

    def _rows(encoded: list[bytes], lo: int, hi: int) -> bytes:
        rec = np.empty(hi - lo, dtype=fixed)
        rec["vol"] = vol[lo:hi]
        rec["amt"] = amt[lo:hi]
        rec["run"] = run
        rec["len"] = np.fromiter(map(len, encoded), dtype=np.int64, count=hi - lo)
        parts = np.empty(4 * (hi - lo), dtype=object)
        parts[0::4] = heads[premise[lo:hi]]
        parts[1::4] = combos[combo_of[lo:hi]]
        parts[2::4] = rec.view(f"V{fixed.itemsize}").tolist()
        parts[3::4] = encoded
        return b"".join(parts.tolist())

    n = premise.size
    yield SIGNATURE
    lo = 0
    for part in texts:
        encoded = [t.encode("utf-8") for t in part]
        for at in range(0, len(encoded), chunk):
            hi = lo + min(chunk, len(encoded) - at)
            if hi > n:
                raise ValueError(f"more explanations than the {n} lines")
            yield _rows(encoded[at : at + hi - lo], lo, hi)
            lo = hi
    if lo != n:
        raise ValueError(f"{lo} explanations for {n} lines")
    yield TRAILER

"""Accrual lines as a PostgreSQL binary COPY stream, built from the result's integer columns.

Numerics are encoded with numpy at a fixed width (leading and trailing zero base-10000 digits
are stripped by the server on receipt); each row is then one ``bytes.join`` of pre-encoded
parts: no Decimal, no per-value encoder. Rows go out in chunks, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Sequence
from datetime import date
from decimal import Decimal

import numpy as np

from core.billing.model import Int64Array

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
_PG_EPOCH = date(2000, 1, 1)
#: base-10000 digits of the integer part: up to 10**16 (volume numeric(20,6) holds 10**14)
_INT_GROUPS = 4


def numeric_field(value: Decimal) -> bytes:
    """One numeric field (length + binary numeric) of a Decimal, any size."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    dscale = max(0, -exponent)
    text = "".join(map(str, digits))
    whole_len = len(text) + exponent
    if whole_len <= 0:
        text, whole_len = "0" * (1 - whole_len) + text, 1
    whole, frac = text[:whole_len], text[whole_len:]
    whole = whole.rjust((len(whole) + 3) // 4 * 4, "0")
    frac = frac.ljust((len(frac) + 3) // 4 * 4, "0")
    groups = [int(whole[i : i + 4]) for i in range(0, len(whole), 4)]
    groups += [int(frac[i : i + 4]) for i in range(0, len(frac), 4)]
    weight = len(whole) // 4 - 1
    body = struct.pack(
        f">hhHh{len(groups)}h", len(groups), weight, 0x4000 if sign else 0, dscale, *groups
    )
    return struct.pack(">i", len(body)) + body


def numeric_fields(units: Int64Array, scale: int) -> list[bytes]:
    """``units / 10**scale`` per element as fixed-width numeric fields (length included)."""
    n = units.size
    frac_groups = (scale + 3) // 4
    nd = _INT_GROUPS + frac_groups
    a = np.abs(units.astype(np.int64))
    whole, frac = np.divmod(a, 10**scale)
    frac = frac * 10 ** (frac_groups * 4 - scale)
    row = np.dtype(
        [
            ("len", ">i4"),
            ("nd", ">i2"),
            ("weight", ">i2"),
            ("sign", ">u2"),
            ("dscale", ">i2"),
            ("d", ">i2", (nd,)),
        ]
    )
    out = np.zeros(n, dtype=row)
    out["len"] = 8 + 2 * nd
    out["nd"] = nd
    out["weight"] = _INT_GROUPS - 1
    out["sign"] = np.where(units < 0, 0x4000, 0)
    out["dscale"] = scale
    for j in range(_INT_GROUPS):
        out["d"][:, j] = (whole // 10 ** (4 * (_INT_GROUPS - 1 - j))) % 10**4
    for j in range(frac_groups):
        out["d"][:, _INT_GROUPS + j] = (frac // 10 ** (4 * (frac_groups - 1 - j))) % 10**4
    blob = out.tobytes()
    size = row.itemsize
    return [blob[i : i + size] for i in range(0, n * size, size)]


def text_field(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">i", len(data)) + data


async def accrual_rows(
    *,
    period: date,
    premise_fields: Sequence[bytes],
    premise: Int64Array,
    combo: list[bytes],
    combo_of: Int64Array,
    volume_micro: Int64Array,
    amount_kopecks: Int64Array,
    texts: Sequence[str],
    run_id: int,
    chunk: int = 25_000,
) -> AsyncIterator[bytes]:
    """The binary COPY stream of ``accruals`` rows, columns (period, premise_id, service,
    method, tariff, coefficient, volume, amount, explanation, run_id); ``combo[combo_of[i]]``
    holds the pre-encoded service, method, tariff and coefficient fields of row i."""
    head = struct.pack(">hii", 10, 4, (period - _PG_EPOCH).days)
    tail = struct.pack(">iq", 8, run_id)
    pack = struct.Struct(">i").pack

    def build(lo: int, hi: int) -> bytes:
        prem = [premise_fields[p] for p in premise[lo:hi].tolist()]
        vol = numeric_fields(volume_micro[lo:hi], 6)
        amt = numeric_fields(amount_kopecks[lo:hi], 2)
        combos = [combo[k] for k in combo_of[lo:hi].tolist()]
        parts = []
        for p, c, v, m, t in zip(prem, combos, vol, amt, texts[lo:hi], strict=True):
            e = t.encode("utf-8")
            parts.append(b"".join((head, p, c, v, m, pack(len(e)), e, tail)))
        return b"".join(parts)

    yield SIGNATURE
    # the next chunk is built in a thread while the current one is on its way to the server
    bounds = [(lo, min(premise.size, lo + chunk)) for lo in range(0, premise.size, chunk)]
    pending = asyncio.ensure_future(asyncio.to_thread(build, *bounds[0])) if bounds else None
    for i in range(len(bounds)):
        assert pending is not None
        data = await pending
        if i + 1 < len(bounds):
            pending = asyncio.ensure_future(asyncio.to_thread(build, *bounds[i + 1]))
        yield data
    yield TRAILER

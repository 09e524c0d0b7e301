"""Numbers of the explanations the Russian way, a whole array at a time.

Integer arithmetic on the columns and lookups in digit tables instead of a ``Fraction`` or
``Decimal`` per number; every text is exactly what :func:`ru` prints for the same value.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import numpy as np

from core.billing.exact import format_fixed, scaled_round
from core.billing.model import Int64Array

#: zero-padded digit groups: _PADS[w][v] is v with w digits
_PADS: dict[int, tuple[str, ...]] = {
    w: tuple(f"{i:0{w}d}" for i in range(10**w)) for w in (1, 2, 3)
}
_T3 = _PADS[3]
_PLAIN = tuple(str(i) for i in range(1000))
#: the last three of six places with trailing zeros dropped (exact volumes), then as they are
_LOW = tuple(t.rstrip("0") for t in _T3) + _T3
#: "," and the places of a fixed decimal: _TAILS[w][v]
_TAILS = {w: tuple("," + t for t in table) for w, table in _PADS.items()}
#: "≈ " for a rounded volume, "−" for a negative one: index 2 × rounded + negative
_PREFIX = ("", "−", "≈ ", "≈ −")
#: |volume| / den below this keeps the volume × 10**6 inside int64
_MICRO_SAFE = 9 * 10**12


def ru(value: Decimal | Fraction | int, places: int | None = None) -> str:
    """A number the Russian way: decimal comma, thin groups of thousands, ≈ when rounded."""
    approx = ""
    if isinstance(value, Fraction):
        exact = value
        places = 6 if places is None else places
        scaled = exact * 10**places
        rounded = int(scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
        if scaled < 0:
            rounded = -((-scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator))
        approx = "" if Fraction(rounded) == scaled else "≈ "
        text = format_fixed(rounded, places)
        if not approx and "." in text:
            text = text.rstrip("0")
            whole, _, frac = text.partition(".")
            text = f"{whole}.{frac.ljust(3, '0')}"
    else:
        text = format(Decimal(value), "f") if places is None else f"{Decimal(value):.{places}f}"
    sign = "−" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return approx + sign + " ".join(groups) + ("," + frac if frac else "")


def _joined(
    whole: Int64Array, tails: list[str] | None, heads: list[str] | None, before: str, after: str
) -> list[str]:
    """``before + head + whole (thousands grouped) + tail + after`` per element.

    ``whole`` is non-negative; ``heads`` (sign, ≈) and ``tails`` (",digits") are per element or
    absent. One string is built per element: the digit groups come from tables.
    """
    if whole.size == 0:
        return []
    top = int(whole.max())
    values = whole.tolist()
    ends = (
        [after] * len(values) if tails is None else [t + after for t in tails] if after else tails
    )
    starts = [before] * len(values) if heads is None else [before + h for h in heads]
    plain, t3 = _PLAIN, _T3
    if top < 1000:
        return [f"{b}{plain[w]}{e}" for b, w, e in zip(starts, values, ends, strict=True)]
    if top < 10**6:
        return [
            f"{b}{plain[w // 1000]} {t3[w % 1000]}{e}" if w >= 1000 else f"{b}{plain[w]}{e}"
            for b, w, e in zip(starts, values, ends, strict=True)
        ]
    return [
        f"{b}{format(w, ',').replace(',', ' ')}{e}"
        for b, w, e in zip(starts, values, ends, strict=True)
    ]


def grouped(values: Int64Array) -> list[str]:
    """Non-negative integers with their thousands separated by spaces."""
    return _joined(values, None, None, "", "")


def _padded(values: Int64Array, width: int) -> list[str]:
    """Integers in [0, 10**width) with exactly ``width`` digits."""
    if width <= 3:
        table = _PADS[width]
        return [table[v] for v in values.tolist()]
    high, low = np.divmod(values, 1000)
    t3 = _T3
    return [h + t3[v] for h, v in zip(_padded(high, width - 3), low.tolist(), strict=True)]


def fixed_texts(units: Int64Array, scale: int, before: str = "", after: str = "") -> list[str]:
    """``before + ru(Decimal(u).scaleb(-scale)) + after`` for each u: all places kept."""
    narrow = _int64_or_none(units)
    if narrow is None:
        return [f"{before}{ru(Decimal(u).scaleb(-scale))}{after}" for u in units_list(units)]
    units = narrow
    if units.size == 0:
        return []
    if scale > 18 or int(units.min()) == np.iinfo(np.int64).min:
        # 10**scale or |u| past int64: exotic, so the plain way
        return [f"{before}{ru(Decimal(u).scaleb(-scale))}{after}" for u in units.tolist()]
    negative = units < 0
    magnitude = np.abs(units)
    heads = [_PREFIX[n] for n in negative.tolist()] if negative.any() else None
    if scale == 0:
        return _joined(magnitude, None, heads, before, after)
    whole, frac = np.divmod(magnitude, 10**scale)
    if scale <= 3:
        table = _TAILS[scale]
        if heads is None and int(whole.max()) < 10**6:
            # the usual case in one pass: no sign, at most two groups of thousands
            plain, t3 = _PLAIN, _T3
            return [
                f"{before}{plain[w // 1000]} {t3[w % 1000]}{table[f]}{after}"
                if w >= 1000
                else f"{before}{plain[w]}{table[f]}{after}"
                for w, f in zip(whole.tolist(), frac.tolist(), strict=True)
            ]
        tails = [table[f] for f in frac.tolist()]
    else:
        tails = ["," + f for f in _padded(frac, scale)]
    return _joined(whole, tails, heads, before, after)


def _int64_or_none(values: object) -> Int64Array | None:
    """``values`` as an int64 array, or None when some value is past int64."""
    try:
        return np.asarray(values, dtype=np.int64)
    except OverflowError:
        return None


def units_list(values: object) -> list[int]:
    """The values of an integer array (int64 or Python integers) as Python integers."""
    out: list[int] = [int(v) for v in np.asarray(values, dtype=object).reshape(-1).tolist()]
    return out


def volume_texts(num: Int64Array, den: Int64Array | int) -> list[str]:
    """``ru(Fraction(n, d))`` for each pair: six places rounded half away from zero after
    "≈ ", or, when exact, trailing zeros dropped down to three places."""
    raw_num, raw_den = num, den
    num_or_none = _int64_or_none(num)
    den_or_none = _int64_or_none(den)
    if num_or_none is None or den_or_none is None:
        # Python integers past int64 (the engine's exact fallback)
        nums = units_list(raw_num)
        dens_list = units_list(np.broadcast_to(np.asarray(raw_den, dtype=object), (len(nums),)))
        return [ru(Fraction(n, d)) for n, d in zip(nums, dens_list, strict=True)]
    num = num_or_none
    if num.size == 0:
        return []
    dens = np.broadcast_to(den_or_none, num.shape)
    if (
        int(dens.min()) <= 0
        or int(num.min()) == np.iinfo(np.int64).min
        or int((np.abs(num) // dens).max()) >= _MICRO_SAFE
    ):
        return [ru(Fraction(n, d)) for n, d in zip(num.tolist(), dens.tolist(), strict=True)]
    micro = scaled_round(num, dens, 10**6, 1)
    # exact at six places iff (num mod den) × 10**6 is a multiple of den
    scalar = den if isinstance(den, int) else dens
    if int(dens.max()) < _MICRO_SAFE:
        rounded = np.remainder(np.remainder(num, scalar) * 10**6, scalar) != 0
    else:
        rounded = np.remainder(10**6, dens // np.gcd(num, dens)) != 0
    negative = micro < 0
    whole, frac = np.divmod(np.abs(micro), 10**6)
    high, low = np.divmod(frac, 1000)
    low += 1000 * rounded
    t3, low_texts = _TAILS[3], _LOW
    if int(whole.max()) < 10**6:
        # the usual case in one pass
        plain, prefix, t = _PLAIN, _PREFIX, _T3
        kinds = (2 * rounded + negative).tolist()
        return [
            f"{prefix[k]}{plain[w // 1000]} {t[w % 1000]}{t3[h]}{low_texts[v]}"
            if w >= 1000
            else f"{prefix[k]}{plain[w]}{t3[h]}{low_texts[v]}"
            for k, w, h, v in zip(kinds, whole.tolist(), high.tolist(), low.tolist(), strict=True)
        ]
    tails = [
        f"{t3[h]}{low_texts[v]}" if v else t3[h]
        for h, v in zip(high.tolist(), low.tolist(), strict=True)
    ]
    heads = None
    if rounded.any() or negative.any():
        prefix = _PREFIX
        heads = [prefix[k] for k in (2 * rounded + negative).tolist()]
    return _joined(whole, tails, heads, "", "")


def repeated_texts(values: Int64Array, texts_of: Callable[[Int64Array], list[str]]) -> list[str]:
    """``texts_of(values)`` computed once per distinct value: for columns with few values."""
    if values.size == 0:
        return []
    distinct, inverse = np.unique(values, return_inverse=True)
    texts = texts_of(distinct)
    return [texts[i] for i in inverse.reshape(-1).tolist()]

"""Matching rows of two tables on several integer columns, by one int64 key per row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.billing.model import Int64Array


def row_keys(
    left: Sequence[Int64Array], right: Sequence[Int64Array]
) -> tuple[Int64Array, Int64Array]:
    """Keys equal exactly where the rows of ``left`` and ``right`` columns are equal.

    Mixed radix over the value ranges, or dense ranks when that would not fit int64.
    """
    n_left = left[0].size if left else 0
    n_right = right[0].size if right else 0
    spans: list[tuple[int, int]] = []
    for cl, cr in zip(left, right, strict=True):
        both = [c for c in (cl, cr) if c.size]
        lo = min((int(c.min()) for c in both), default=0)
        hi = max((int(c.max()) for c in both), default=0)
        spans.append((lo, hi - lo + 1))
    total = 1
    for _, span in spans:
        total *= span
    if total < 2**62:
        keys = []
        for cols, size in ((left, n_left), (right, n_right)):
            key = np.zeros(size, dtype=np.int64)
            for c, (lo, span) in zip(cols, spans, strict=True):
                key *= span
                key += c - lo
            keys.append(key)
        return keys[0], keys[1]
    rows = np.concatenate([np.stack(left, axis=1), np.stack(right, axis=1)])
    _, inverse = np.unique(rows, axis=0, return_inverse=True)
    dense = inverse.reshape(-1).astype(np.int64)
    return dense[:n_left], dense[n_left:]


def ranges(sorted_keys: Int64Array, queries: Int64Array) -> tuple[Int64Array, Int64Array]:
    """Per query, the slice [lo, hi) of ``sorted_keys`` equal to it (empty if none)."""
    lo = np.searchsorted(sorted_keys, queries, side="left").astype(np.int64)
    hi = np.searchsorted(sorted_keys, queries, side="right").astype(np.int64)
    return lo, hi

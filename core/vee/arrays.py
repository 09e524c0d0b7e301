"""Row-wise array helpers shared by the detectors: gap filling and runs of True."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

_BLOCK_ROWS = 2048  # keeps the temporaries of one block in cache-sized pieces, not 10× the input


def previous_index(valid: B) -> I64:
    """For each cell, the column of the last valid cell at or before it in its row (−1: none)."""
    cols = np.arange(valid.shape[1], dtype=np.int64)
    idx = np.where(valid, cols, np.int64(-1))
    return np.maximum.accumulate(idx, axis=1)


def next_index(valid: B) -> I64:
    """For each cell, the column of the first valid cell at or after it (n_columns: none)."""
    n = valid.shape[1]
    cols = np.arange(n, dtype=np.int64)
    idx = np.where(valid, cols, np.int64(n))
    return np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]


def interpolate_rows(values: F64) -> F64:
    """Linear interpolation over NaN gaps inside each row; leading and trailing NaN stay."""
    out = values.copy()
    # Complete rows (most of a healthy fleet) need no work.
    rows = np.flatnonzero(~np.isfinite(values).all(axis=1))
    for lo in range(0, rows.size, _BLOCK_ROWS):
        sel = rows[lo : lo + _BLOCK_ROWS]
        out[sel] = _interpolate_block(values[sel])
    return out


def _interpolate_block(x: F64) -> F64:
    valid = np.isfinite(x)
    n = x.shape[1]
    p = previous_index(valid)
    q = next_index(valid)
    inside = (p >= 0) & (q < n)
    vp = np.take_along_axis(x, np.clip(p, 0, n - 1), axis=1)
    vq = np.take_along_axis(x, np.clip(q, 0, n - 1), axis=1)
    span = np.maximum(q - p, 1)
    weight = (np.arange(n) - p) / span
    return np.where(inside, vp + (vq - vp) * weight, np.nan)


def true_runs(mask: B) -> tuple[I64, I64, I64]:
    """Runs of True in each row of a 2-D mask: (row, first column, end column exclusive)."""
    rows, n = mask.shape
    padded = np.zeros((rows, n + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    # Row-major nonzero keeps each row's starts and ends in order, so they pair up.
    r_start, c_start = np.nonzero(edges == 1)
    _, c_end = np.nonzero(edges == -1)
    return r_start.astype(np.int64), c_start.astype(np.int64), c_end.astype(np.int64)


def longest_run(mask: B) -> tuple[I64, I64, I64]:
    """Per row, the longest run of True: (length, first column, end column); length 0 if none."""
    rows = mask.shape[0]
    length = np.zeros(rows, dtype=np.int64)
    first = np.zeros(rows, dtype=np.int64)
    end = np.zeros(rows, dtype=np.int64)
    r, s, e = true_runs(mask)
    if r.size:
        lens = e - s
        # Sort by (row, length) so the last entry per row is its longest run.
        order = np.lexsort((lens, r))
        r, s, e, lens = r[order], s[order], e[order], lens[order]
        last = np.r_[r[1:] != r[:-1], True]
        length[r[last]] = lens[last]
        first[r[last]] = s[last]
        end[r[last]] = e[last]
    return length, first, end

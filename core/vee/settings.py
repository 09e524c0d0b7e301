"""Settings of the batch VEE pass, with the defaults of ``domain/vee.md``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class VeeSettings:
    """Every threshold of the batch pass; each detector takes the same names as keywords.

    Defaults marked (vee.md) come from ``domain/vee.md``; the others are uchet's choices.
    """

    spike_k: float = 6.0
    """(vee.md) a day is a spike above median + k·MAD of the meter's recent days."""
    spike_window_days: int = 28
    """Recent days the median and MAD are taken over (the days before; clamped at the start)."""
    spike_min_days: int = 7
    """Fewer valid reference days than this: no spike verdict."""
    spike_min_ratio: float = 3.0
    """A spike must also be at least this multiple of the median. Steady meters have a small
    MAD, and their ordinary high days (guests, laundry) would pass median + k·MAD alone; at 2
    a tenth of a city's daily smart meters had one in a month (2,400 of 14,000, 60 leaks)."""
    spike_house_meters: bool = False
    """ОДПУ daily volumes carry the premises' own spikes and leak onsets, which the premise
    detectors and the house balance report already; off by default."""
    stuck_days: int = 30
    """(vee.md) zero consumption for at least this many days is a stuck meter."""
    stuck_epsilon: float = 0.0
    """Daily consumption ≤ this counts as zero."""
    rollover_margin: float = 0.1
    """A drop is a rollover when the previous value is within this share of capacity from
    the top and the new one within this share from zero."""
    replacement_max_share: float = 0.05
    """A drop to at most this share of the previous value is a replacement candidate ..."""
    replacement_confirm_hours: int = 48
    """... confirmed when the readings in the following hours neither drop again nor climb
    back to half-way towards the old value (normal consumption of a new meter)."""
    rollback_min_drop: float = 0.0
    """Drops no larger than this are register jitter: zero consumption, no anomaly."""
    reverse_tolerance: float = 0.0
    """Interval values below −tolerance count as reverse flow."""
    sum_tolerance: float = 0.01
    """(vee.md) relative tolerance between Σ intervals and the register difference."""
    sum_abs_tolerance: float = 0.01
    """Absolute tolerance (about one register resolution step), for small volumes."""
    balance_threshold: float = 0.15
    """(vee.md) imbalance ratio (ОДПУ − Σ premises) / ОДПУ that counts as an imbalance."""
    balance_persistent_days: int = 7
    """An imbalance persisting for this many consecutive days raises an anomaly."""
    missing_min_hours: int = 1
    """A meter with at least this many missing hourly values (and a gap, below) is reported."""
    missing_gap_hours: int = 72
    """A meter is reported when it is silent this many hours between readings (or since the
    period began, or until now): daily smart meters skip 23 hours every day by design."""
    missing_critical_hours: int = 168
    """A gap this long (a week) is critical; shorter ones a warning."""

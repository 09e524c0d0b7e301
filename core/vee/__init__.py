"""Batch VEE (validation, estimation, editing) and anomaly detection, vectorised with numpy.

Rules and defaults: ``domain/vee.md``. Pure: arrays in, arrays and :class:`Anomaly` out.

Input — :class:`Fleet` (``core/vee/fleet.py``): one period of M meters as a dense hourly
register array (M, T) with NaN for missing readings (column t = ``start + t`` hours; use
T = 24·D + 1), per-meter metadata (house index, service index into
``core.channels.SERVICES``, ``is_house_meter`` for ОДПУ, register ``digits``,
``allows_export``) and optional hourly interval values (M, T−1). :func:`grid_hourly` builds
the dense array from sparse ``(meter_idx, ts, value)`` readings.

The pass — :func:`run_batch` ``(fleet, *, settings=VeeSettings(), unmetered_daily=None)`` →
:class:`BatchResult` with ``anomalies`` (list of :class:`Anomaly`), ``consumption``
(hourly/daily consumption with rollovers corrected, register drops classified) and
``balance`` (:class:`BalanceTable`, the daily and period house balance). All thresholds are
fields of :class:`VeeSettings` (keyword-only, vee.md defaults).

Detectors, each also usable alone on arrays (keyword-only settings of the same names):

=====================  ==================================  ================================
type code              function                            rule
=====================  ==================================  ================================
``missing_data``       ``missing.missing_anomalies``       silent ≥ 72 h (register, interval)
``register_rollback``  ``consumption.derive_consumption``  register down, not rollover /
``meter_replacement``                                      replacement (see its docstring)
``consumption_spike``  ``spikes.find_spikes``              day > median + k·MAD, k = 6
``stuck_meter``        ``stuck.find_stuck``                0 for ≥ 30 days, house consumes
``reverse_flow``       ``flow.find_reverse_flow``          interval < 0, no export allowed
``sum_check_mismatch`` ``flow.sum_check``                  Σ intervals vs Δ register > 1 %
``house_imbalance``    ``balance.house_balance`` +         (ОДПУ − Σ premises) / ОДПУ
``house_negative_...`` ``balance.persistent_imbalances``   beyond ±15 % for ≥ 7 days
=====================  ==================================  ================================

Type codes, severities and estimation methods: :mod:`core.vee.codes` (the one place).

Estimation — :func:`estimate_intervals` (linear for gaps ≤ 1 h, then the same-hour average of
the same day type over the previous 3 weeks) and :func:`interpolate_register`; both return an
:class:`Estimate` (values, per-value :class:`EstimateMethod`) and never change actual values.
"""

from core.vee.anomaly import Anomaly
from core.vee.balance import BalanceTable
from core.vee.batch import BatchResult, run_batch
from core.vee.codes import DESCRIPTIONS, AnomalyType, EstimateMethod, Severity
from core.vee.consumption import Consumption
from core.vee.estimate import Estimate, estimate_intervals, interpolate_register
from core.vee.fleet import Fleet, Grid, VeeInputError, grid_hourly
from core.vee.settings import VeeSettings

__all__ = [
    "DESCRIPTIONS",
    "Anomaly",
    "AnomalyType",
    "BalanceTable",
    "BatchResult",
    "Consumption",
    "Estimate",
    "EstimateMethod",
    "Fleet",
    "Grid",
    "Severity",
    "VeeInputError",
    "VeeSettings",
    "estimate_intervals",
    "grid_hourly",
    "interpolate_register",
    "run_batch",
]

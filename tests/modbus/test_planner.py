"""Block planning (coalescing), poll slots and phases."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.modbus.planner import default_phase, next_slot, plan_blocks
from adapters.modbus.profile import RegisterSpec, profile_from_dict


def regs(*specs: tuple[int, str, int]) -> tuple[RegisterSpec, ...]:
    """(address, type, function) -> registers with distinct channels."""
    data: dict[str, Any] = {
        "model": "t",
        "source": "test",
        "registers": [
            {
                "name": f"r{i}",
                "address": a,
                "type": t,
                "function": f,
                "unit": "kWh",
                "channel": f"1-0:1.8.{i}",
            }
            for i, (a, t, f) in enumerate(specs)
        ],
    }
    return profile_from_dict(data, name="t").registers


def shape(blocks: list[Any]) -> list[tuple[int, int, int]]:
    return [(b.function, b.address, b.count) for b in blocks]


@pytest.mark.parametrize(
    "specs,max_gap,expected",
    [
        # contiguous floats: one block
        ([(72, "f32", 4), (74, "f32", 4), (76, "f32", 4)], 8, [(4, 72, 6)]),
        # gap of exactly max_gap registers merges, one more splits
        ([(0, "u16", 3), (9, "u16", 3)], 8, [(3, 0, 10)]),
        ([(0, "u16", 3), (10, "u16", 3)], 8, [(3, 0, 1), (3, 10, 1)]),
        # max_gap 0: only touching registers merge
        ([(0, "u32", 3), (2, "u32", 3), (5, "u16", 3)], 0, [(3, 0, 4), (3, 5, 1)]),
        # different functions never share a block, even at the same address
        ([(10, "u16", 3), (10, "u16", 4)], 8, [(3, 10, 1), (4, 10, 1)]),
        # unsorted input
        ([(342, "f32", 4), (72, "f32", 4), (74, "f32", 4)], 8, [(4, 72, 4), (4, 342, 2)]),
        # 125-register limit: a value that would cross it starts a new block
        ([(0, "u16", 3), (123, "u64", 3)], 200, [(3, 0, 1), (3, 123, 4)]),
        ([(0, "u16", 3), (121, "u64", 3)], 200, [(3, 0, 125)]),
        # overlapping registers (two views of one value) stay in one block
        ([(0, "u32", 3), (1, "u16", 3)], 0, [(3, 0, 2)]),
    ],
)
def test_plan_blocks(
    specs: list[tuple[int, str, int]], max_gap: int, expected: list[tuple[int, int, int]]
) -> None:
    blocks = plan_blocks(regs(*specs), max_gap=max_gap)
    assert shape(blocks) == expected
    # every register lies wholly inside exactly one block
    covered = [r.name for b in blocks for r in b.registers]
    assert sorted(covered) == sorted(r.name for r in regs(*specs))
    for b in blocks:
        assert b.count <= 125
        for r in b.registers:
            assert b.address <= r.address and r.end <= b.address + b.count


def test_plan_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match="max_gap"):
        plan_blocks(regs((0, "u16", 3)), max_gap=-1)
    with pytest.raises(ValueError, match="max_count"):
        plan_blocks(regs((0, "u16", 3)), max_count=126)


@pytest.mark.parametrize(
    "after,interval,phase,expected",
    [
        (0.0, 60.0, 7.0, 7.0),
        (7.0, 60.0, 7.0, 67.0),  # strictly after
        (66.9, 60.0, 7.0, 67.0),
        (1000.5, 60.0, 0.0, 1020.0),
        (5.0, 1.0, 0.25, 5.25),
    ],
)
def test_next_slot(after: float, interval: float, phase: float, expected: float) -> None:
    assert next_slot(after, interval_s=interval, phase_s=phase) == pytest.approx(expected)


def test_default_phase_is_stable_and_spread() -> None:
    phases = [default_phase(f"kv-{n:04d}", 60.0) for n in range(1000)]
    assert phases == [default_phase(f"kv-{n:04d}", 60.0) for n in range(1000)]
    assert all(0 <= p < 60 for p in phases)
    # spread: every 6-second tenth of the minute gets a fair share of 1000 meters
    buckets = [0] * 10
    for p in phases:
        buckets[int(p // 6)] += 1
    assert min(buckets) > 60

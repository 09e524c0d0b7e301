"""Request planning: coalescing a profile's registers into block reads, and poll phases.

One request per value (the ThingsBoard way) multiplies bus time by the number of values; a
block read of nearby registers costs one round trip. Registers are merged when they use the
same function, the hole between them is at most ``max_gap`` registers and the block stays
within the protocol limit of 125 registers.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from adapters.modbus.profile import RegisterSpec

MAX_REGISTERS = 125  # Modbus read holding/input registers: at most 125 per request


@dataclass(frozen=True, slots=True)
class Block:
    """One read request: ``count`` registers from ``address`` with ``function``."""

    function: int
    address: int
    count: int
    registers: tuple[RegisterSpec, ...]

    def describe(self) -> str:
        """``fc4 72+8`` style, for error messages."""
        return f"fc{self.function} {self.address}+{self.count}"


def plan_blocks(
    registers: Iterable[RegisterSpec], *, max_gap: int = 8, max_count: int = MAX_REGISTERS
) -> list[Block]:
    """Block reads covering every register, fewest requests first-fit by address.

    ``max_gap`` is the largest run of unused registers a block may span (reading a few
    unused registers is cheaper than another round trip, but some meters answer an
    exception for unmapped addresses: set 0 for those).
    """
    if max_gap < 0:
        raise ValueError("max_gap must be >= 0")
    if not 1 <= max_count <= MAX_REGISTERS:
        raise ValueError(f"max_count must be 1..{MAX_REGISTERS}")
    blocks: list[Block] = []
    ordered = sorted(registers, key=lambda r: (r.function, r.address))
    current: list[RegisterSpec] = []
    start = end = function = -1
    for reg in ordered:
        if reg.count > max_count:
            raise ValueError(f"register {reg.name!r} is wider than max_count {max_count}")
        fits = (
            current
            and reg.function == function
            and reg.address - end <= max_gap
            and max(end, reg.end) - start <= max_count
        )
        if fits:
            current.append(reg)
            end = max(end, reg.end)
            continue
        if current:
            blocks.append(Block(function, start, end - start, tuple(current)))
        current = [reg]
        function, start, end = reg.function, reg.address, reg.end
    if current:
        blocks.append(Block(function, start, end - start, tuple(current)))
    return blocks


def default_phase(meter: str, interval_s: float) -> float:
    """A stable offset in ``[0, interval_s)`` that spreads a fleet's polls over the interval.

    Derived from the meter id (not random) so a restart keeps each device's slot.
    """
    return (zlib.crc32(meter.encode()) / 2**32) * interval_s


def next_slot(after: float, *, interval_s: float, phase_s: float) -> float:
    """The first poll slot ``k * interval_s + phase_s`` strictly after ``after`` (epoch s)."""
    k = (after - phase_s) // interval_s + 1
    return k * interval_s + phase_s

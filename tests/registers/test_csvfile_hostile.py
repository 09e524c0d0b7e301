"""Hostile CSV text: a stray carriage return inside a line never ends in a raw csv.Error."""

from __future__ import annotations

from adapters.registers import csvfile


def test_sniffing_survives_a_stray_carriage_return() -> None:
    lines = ["meter;ts;value", "m1;2026-01-01;1\r5", "m2;2026-01-01;2"]
    assert csvfile.sniff_delimiter(lines) == ";"

"""Decoding of register words for every type and layout, against hand-written byte tables."""

from __future__ import annotations

import math

import pytest

from adapters.modbus.codec import TYPES, make_decoder

# (type, value, big-endian bytes of the value)
VALUES = [
    ("u16", 0xBEEF, "BEEF"),
    ("i16", -2, "FFFE"),
    ("u32", 0x12345678, "12345678"),
    ("i32", -123456789, "F8A432EB"),
    ("u64", 0x0102030405060700, "0102030405060700"),  # exact in a float
    ("i64", -2, "FFFFFFFFFFFFFFFE"),
    ("f32", 1.5, "3FC00000"),
    ("f32", -2.25, "C0100000"),
    ("f64", 1234.5, "40934A0000000000"),
]


def _words(hex_bytes: str, *, byte_order: str, word_order: str) -> list[int]:
    groups = [hex_bytes[i : i + 4] for i in range(0, len(hex_bytes), 4)]
    if word_order == "little":
        groups.reverse()
    if byte_order == "little":
        groups = [g[2:] + g[:2] for g in groups]
    return [int(g, 16) for g in groups]


@pytest.mark.parametrize("type_name,value,hex_bytes", VALUES)
@pytest.mark.parametrize("byte_order", ["big", "little"])
@pytest.mark.parametrize("word_order", ["big", "little"])
def test_decodes_every_type_and_layout(
    type_name: str, value: float, hex_bytes: str, byte_order: str, word_order: str
) -> None:
    words = _words(hex_bytes, byte_order=byte_order, word_order=word_order)
    decode = make_decoder(type_name, byte_order=byte_order, word_order=word_order)
    # padding on both sides: the decoder must honour the offset
    assert decode([0xAAAA, *words, 0x5555], 1) == value


def test_word_swapped_float_is_not_the_value() -> None:
    # 0x3FC00000 word-swapped is 0x00003FC0: a tiny denormal, not 1.5. A wrong profile
    # word order is silently wrong data, which is why profiles must be right.
    decode = make_decoder("f32", byte_order="big", word_order="big")
    assert decode([0x0000, 0x3FC0], 0) != 1.5
    assert decode([0x0000, 0x3FC0], 0) < 1e-38


def test_short_block_is_an_error() -> None:
    decode = make_decoder("u32", byte_order="big", word_order="big")
    with pytest.raises(ValueError, match="u32 needs 2 registers"):
        decode([1, 2, 3], 2)


def test_nan_decodes_as_nan() -> None:
    decode = make_decoder("f32", byte_order="big", word_order="big")
    assert math.isnan(decode([0x7FC0, 0x0000], 0))


def test_type_table_widths() -> None:
    assert {t: w for t, (w, _) in TYPES.items()} == {
        "u16": 1, "i16": 1, "u32": 2, "i32": 2, "u64": 4, "i64": 4, "f32": 2, "f64": 4,
    }  # fmt: skip

"""Decoding of Modbus register words into numbers, for every type, byte and word order.

A Modbus register is a 16-bit word sent most significant byte first. Meters disagree on how
wider values are laid out: ``word_order`` says whether the most significant word comes first
(``big``, the Modbus convention) or last (``little``, "word swapped"); ``byte_order`` says
whether the bytes inside each word are in the standard order (``big``) or swapped (``little``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Final

# type -> (number of 16-bit words, struct format of the big-endian value)
TYPES: Final[dict[str, tuple[int, str]]] = {
    "u16": (1, ">H"),
    "i16": (1, ">h"),
    "u32": (2, ">I"),
    "i32": (2, ">i"),
    "u64": (4, ">Q"),
    "i64": (4, ">q"),
    "f32": (2, ">f"),
    "f64": (4, ">d"),
}
ORDERS: Final = ("big", "little")

Decoder = Callable[[Sequence[int], int], float]


def words_of(type_name: str) -> int:
    """How many 16-bit registers a value of ``type_name`` occupies."""
    return TYPES[type_name][0]


def make_decoder(type_name: str, *, byte_order: str, word_order: str) -> Decoder:
    """A function ``(words, offset) -> number`` for one type and layout.

    Built once per profile register, so the per-read path is a slice, a join and an unpack.
    """
    count, fmt = TYPES[type_name]
    unpack = struct.Struct(fmt).unpack
    swap_bytes = byte_order == "little"
    reverse_words = word_order == "little" and count > 1

    def decode(words: Sequence[int], offset: int) -> float:
        chunk = list(words[offset : offset + count])
        if len(chunk) != count:
            raise ValueError(f"{type_name} needs {count} registers, got {len(chunk)}")
        if reverse_words:
            chunk.reverse()
        if swap_bytes:
            chunk = [((w & 0xFF) << 8) | (w >> 8) for w in chunk]
        raw = b"".join(w.to_bytes(2, "big") for w in chunk)
        return float(unpack(raw)[0])

    return decode

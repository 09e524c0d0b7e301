"""The DejaVu Sans fonts (Debian fonts-dejavu-core) of every PDF drawn with fpdf2 (the ЕПД, a
claim letter), parsed once per process: a document gets its fonts from the parsed ones in a
fraction of the time ``FPDF.add_font`` takes (it parses the whole TrueType file each time)."""

from __future__ import annotations

import copy
import io
from functools import cache
from pathlib import Path

from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import TextEmphasis
from fpdf.fonts import SubsetMap, TTFFont

from core.errors import ConfigError

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
FAMILY = "dejavu"

# The characters of the reduced font a document is drawn with unless its texts need others:
# ASCII, Latin-1, Cyrillic, general punctuation (– — « » …), № and ₽.
COMMON = frozenset(
    [*range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x400, 0x530), *range(0x2010, 0x2060)]
).union((0x2116, 0x20BD, 0x2212))
# the attributes of fpdf2's TTFFont a document changes (set afresh by add_font)
_OWN = ("i", "fontkey", "emphasis", "ttfont", "cw", "missing_glyphs", "biggest_size_pt", "subset")


def font_path(bold: bool) -> Path:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise ConfigError(f"PDF: font {name} not found (install Debian fonts-dejavu-core)")


def _reduced(path: Path) -> bytes:
    """The font cut down to COMMON without the layout tables fpdf2 drops: ~700 of its ~6000
    glyphs, so reading and subsetting it per document is cheap."""
    font = ttLib.TTFont(str(path), recalcTimestamp=False)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, name_IDs=["*"])
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "MATH", "FFTM", "hdmx", "kern"]
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=COMMON)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@cache
def _parsed(path: Path, reduced: bool) -> tuple[TTFFont, bytes]:
    """The font (reduced to COMMON, or whole) parsed once per process — widths, glyph ids,
    descriptor — and its bytes: parsing it for every document took about half of the time."""
    data = _reduced(path) if reduced else path.read_bytes()
    return TTFFont(FPDF(), io.BytesIO(data), "probe", ""), data  # type: ignore[arg-type]


def add_font(pdf: FPDF, family: str, style: str, path: Path, reduced: bool) -> None:
    """``pdf.add_font`` from the parsed font: the read-only tables are shared, the parts a
    document changes are its own — a fresh (lazily read) fontTools font, which writing the
    PDF subsets in place, the used-glyph map and the widths. Falls back to ``add_font`` if
    fpdf2's font objects change shape."""
    proto, data = _parsed(path, reduced)
    if any(not hasattr(proto, a) for a in _OWN):  # not the fpdf2 this was written for
        pdf.add_font(family, style, str(path))
        return
    font = TTFFont.__new__(TTFFont)
    for slot in TTFFont.__slots__:
        if hasattr(proto, slot):
            setattr(font, slot, getattr(proto, slot))
    font.i = len(pdf.fonts) + 1
    font.fontkey = f"{family}{style}"
    font.emphasis = TextEmphasis.coerce(style)
    font.ttfont = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)
    font.cw = copy.copy(proto.cw)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    pdf.fonts[font.fontkey] = font


def dejavu_document(texts: str) -> FPDF:
    """A new A4 document with DejaVu Sans regular and bold as family ``dejavu``: reduced to
    COMMON when ``texts`` (what the document draws that its module does not write itself)
    need no other characters, else the whole fonts."""
    pdf = FPDF(format="A4")
    reduced = all(ord(c) in COMMON for c in texts)
    add_font(pdf, FAMILY, "", font_path(False), reduced)
    add_font(pdf, FAMILY, "B", font_path(True), reduced)
    return pdf

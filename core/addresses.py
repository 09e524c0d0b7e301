"""Russian postal addresses as people write them, reduced to comparable parts (pure).

«г. Симбирск, ул. Моделируемая, д. 44, кв. 2», «Симбирск г, Моделируемая ул, 44-2» and
«432000, Симбирск, Моделируемая улица, дом 44 квартира 2» all become the same
:class:`Address`: abbreviations are expanded to one canonical type (``ул``, ``пр-кт``, …),
the order of a part's type and name does not matter, the region and the postcode are dropped,
and the house is split into number, корпус, строение and литера. A letter written on the
number (``44А``) and a литера (``44, лит. А``) are the same thing here: ГАР writes the first,
St Petersburg the second. Cadastral numbers and ГАР/ФИАС GUIDs are normalized on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

_TOKEN = re.compile(r"[a-zа-я]+(?:-[a-zа-я]+)*\.?|\d+|[,/-]")
_POSTCODE = re.compile(r"(?<!\d)\d{6}(?!\d)")
_ORDINAL = re.compile(r"(\d+)\s*-?\s*(?:ый|ий|ой|й|ая|яя|я|ое|ее|е|го|ого)\b")
_CADASTRAL = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,7}):(\d{1,8})")
_GUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")

REGION = frozenset(
    "обл область край респ республика р-н район ао автономный округ мо муниципальный"
    " городской внутригородская территория г.о го".split()
)
"""Words of parts that name the region or district: dropped (a register may omit them)."""
CITY = {
    **dict.fromkeys(("г", "гор", "город"), "г"),
    **dict.fromkeys(("пгт", "рп", "поселок", "пос", "п"), "п"),
    **dict.fromkeys(("с", "село"), "с"),
    **dict.fromkeys(("д", "дер", "деревня"), "д"),
    **dict.fromkeys(("ст-ца", "станица"), "ст-ца"),
}
STREET = {
    **dict.fromkeys(("ул", "улица", "у"), "ул"),
    **dict.fromkeys(("пр-т", "пр-кт", "просп", "проспект", "пр"), "пр-кт"),
    **dict.fromkeys(("пер", "переулок"), "пер"),
    **dict.fromkeys(("ш", "шоссе"), "ш"),
    **dict.fromkeys(("б-р", "бул", "бульв", "бульвар"), "б-р"),
    **dict.fromkeys(("наб", "набережная"), "наб"),
    **dict.fromkeys(("пл", "площадь"), "пл"),
    **dict.fromkeys(("проезд", "пр-д"), "проезд"),
    **dict.fromkeys(("мкр", "мкрн", "микрорайон", "мкр-н"), "мкр"),
    **dict.fromkeys(("туп", "тупик"), "туп"),
    **dict.fromkeys(("ал", "аллея"), "аллея"),
    **dict.fromkeys(("тракт",), "тракт"),
}
HOUSE = frozenset(("д", "дом", "влд", "владение", "зд", "здание"))
CORPUS = frozenset(("к", "корп", "корпус", "кор"))
BUILDING = frozenset(("стр", "строение", "с"))
LITER = frozenset(("лит", "литер", "литера", "л"))
FLAT = frozenset(("кв", "квартира", "пом", "помещение", "оф", "офис", "комн", "ком", "комната"))
_DROP = frozenset(("им", "имени"))
_MARKERS = HOUSE | CORPUS | BUILDING | LITER | FLAT | frozenset(CITY) | frozenset(STREET) | _DROP


@dataclass(frozen=True, slots=True)
class Address:
    """The comparable parts of an address; an empty string is "not given"."""

    city: str = ""
    street: str = ""
    street_type: str = ""
    house: str = ""  # number with its letter or fraction: "44", "44а", "44/2"
    corpus: str = ""
    building: str = ""
    flat: str = ""

    @property
    def house_key(self) -> tuple[str, str, str]:
        """What must agree exactly for two addresses to be the same house (the names may differ
        by typos): number with letter, корпус, строение."""
        return (self.house, self.corpus, self.building)

    def text(self) -> str:
        parts = [f"г {self.city}" if self.city else "", f"{self.street_type} {self.street}"]
        house = f"д {self.house}" if self.house else ""
        if self.corpus:
            house += f" к {self.corpus}"
        if self.building:
            house += f" стр {self.building}"
        parts.append(house)
        if self.flat:
            parts.append(f"кв {self.flat}")
        return ", ".join(p.strip() for p in parts if p.strip())


def _clean(text: str) -> str:
    text = text.casefold().replace("ё", "е").replace("№", " ")
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\\", "/")
    text = _POSTCODE.sub(" ", text)
    return _ORDINAL.sub(r"\1", text)


def _word(token: str) -> str:
    return token.rstrip(".")


def normalize_flat(text: str) -> str:
    """A premise number: ``кв. 02`` -> ``2``, ``12А`` -> ``12а``, ``пом. 1Н`` -> ``1н``."""
    if text.isdigit():
        return text.lstrip("0") or "0"
    tokens = [_word(t) for t in _TOKEN.findall(_clean(text)) if t not in ",-"]
    tokens = [t for t in tokens if t not in FLAT]
    out = "".join(tokens)
    return out.lstrip("0") or ("0" if out else "")


def _house_number(tokens: list[str], i: int) -> tuple[str, int]:
    """The house number starting at tokens[i] (a digit run), with its letter or fraction."""
    number = tokens[i].lstrip("0") or "0"
    i += 1
    if i < len(tokens) and len(_word(tokens[i])) == 1 and tokens[i].isalpha():
        if _word(tokens[i]) not in CORPUS | BUILDING | LITER or (
            i + 1 >= len(tokens) or not tokens[i + 1].isdigit()
        ):
            number += _word(tokens[i])
            i += 1
    if i + 1 < len(tokens) and tokens[i] == "/" and tokens[i + 1].isdigit():
        number += "/" + tokens[i + 1]
        i += 2
    return number, i


def _value(tokens: list[str], i: int) -> tuple[str, str, int]:
    """The number (or single letter) after a marker such as ``корп.`` or ``лит.``, and the
    letter written on it (``корп. 2А``: a литера, kept with the house so that both spellings
    of St Petersburg addresses agree)."""
    if i < len(tokens) and tokens[i] not in ",/-":
        value, letter = _word(tokens[i]), ""
        i += 1
        if value.isdigit() and i < len(tokens) and len(_word(tokens[i])) == 1:
            if tokens[i].isalpha() and _word(tokens[i]) not in CORPUS | BUILDING | LITER | FLAT:
                letter = _word(tokens[i])
                i += 1
        return (value.lstrip("0") or "0") if value.isdigit() else value, letter, i
    return "", "", i


def _dash_flat(tokens: list[str], i: int) -> tuple[str, int] | None:
    """The flat written after the house with a dash (``44-2``, ``5к2-17``) at tokens[i], and
    the index after it; None when there is none."""
    if i + 1 < len(tokens) and tokens[i] == "-" and tokens[i + 1].isdigit():
        return tokens[i + 1].lstrip("0") or "0", i + 2
    return None


class _Part(NamedTuple):
    """What one comma-separated part of an address says, given what earlier parts said."""

    house: str
    corpus: str | None  # None: not in this part
    building: str | None
    liter: str
    flat: str
    kind: str  # city | street | "" (a name without a type)
    name: str
    street_type: str


@lru_cache(maxsize=1 << 16)
def _part(raw: str, house: str, flat: str, liter: str) -> _Part | None:
    """One part (``ул. Моделируемая``, ``д. 44``); None when it says nothing (a region, a
    postcode). Cached: a register repeats its city, street and house parts row after row, so
    a row with a typo costs the parse of its street part only."""
    tokens = _TOKEN.findall(_clean(raw))
    words = [t.rstrip(".") for t in tokens]
    if not tokens or not REGION.isdisjoint(words):
        return None
    corpus = building = None
    names: list[str] = []
    has_name = any(len(w) > 1 and w.isalpha() and w not in _MARKERS for w in words)
    kind = ctype = stype = ""
    i = 0
    while i < len(tokens):
        w = words[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if w in HOUSE and nxt.isdigit() and not house:
            house, i = _house_number(tokens, i + 1)
            if not flat and (dash := _dash_flat(tokens, i)):
                flat, i = dash
            continue
        if (w in CORPUS or w in BUILDING) and nxt and house and not names:
            value, liter_, i = _value(tokens, i + 1)
            if w in CORPUS:
                corpus = value
            else:
                building = value
            liter = liter or liter_
            if not flat and (dash := _dash_flat(tokens, i)):
                flat, i = dash
            continue
        if w in LITER and nxt and house and not names:
            liter, _, i = _value(tokens, i + 1)
            continue
        if w in FLAT and nxt:
            flat, letter, i = _value(tokens, i + 1)
            flat += letter
            continue
        if tokens[i].isdigit() and not house and (names or not has_name):
            house, i = _house_number(tokens, i)
            if dash := _dash_flat(tokens, i):
                flat, i = dash
            continue
        if w in CITY and not ctype and not stype and (len(words) > 1):
            # «д» before a name is a деревня, before a number a дом (handled above)
            ctype, kind = CITY[w], "city"
        elif w in STREET and not stype and not ctype and len(words) > 1:
            stype, kind = STREET[w], "street"
        elif w not in _DROP and tokens[i] not in ",/-":
            names.append(w)
        i += 1
    return _Part(house, corpus, building, liter, flat, kind, " ".join(names), stype)


def normalize_address(text: str) -> Address:
    """The parts of ``text`` (see the module); never raises, missing parts stay empty."""
    city = street = street_type = house = corpus = building = liter = flat = ""
    unnamed: list[str] = []  # word-only parts without a type: a city or a street
    for raw in text.split(","):  # _clean keeps commas where they are: parts clean alone
        p = _part(raw, house, flat, liter)
        if p is None:
            continue
        house, liter, flat, name = p.house, p.liter, p.flat, p.name
        if p.corpus is not None:
            corpus = p.corpus
        if p.building is not None:
            building = p.building
        if not name:
            continue
        if p.kind == "city" and not city:
            city = name
        elif p.kind == "street" and not street:
            street, street_type = name, p.street_type
        elif p.kind == "":
            unnamed.append(name)
    if not street and unnamed:
        street = unnamed.pop()
    if not city and unnamed:
        city = unnamed[0]
    if liter and not house.endswith(liter):
        house += liter
    return Address(city, street, street_type, house, corpus, building, flat)


def normalize_cadastral(text: str) -> str | None:
    """A cadastral number ``AA:BB:CCCCCCC:KK`` without leading zeros in its parts, or None."""
    found = _CADASTRAL.search(text or "")
    if found is None:
        return None
    return ":".join(p.lstrip("0") or "0" for p in found.groups())


def normalize_guid(text: str) -> str | None:
    """A ГАР/ФИАС object GUID, lower case with hyphens, or None when ``text`` has none."""
    found = _GUID.search((text or "").casefold())
    if found is None:
        return None
    g = found.group().replace("-", "")
    return f"{g[:8]}-{g[8:12]}-{g[12:16]}-{g[16:20]}-{g[20:]}"


_TRAILING_NUMBER = re.compile(r"(?:^|[^0-9])0*(\d+)([a-zа-я]?)$")


def flat_from_premise_id(premise_id: str) -> str:
    """The flat number a premise id ends with (``h01-012`` -> ``12``), or "" (``h01-shop``).

    The account side stores no flat number: ids that end in one are how the billing data
    names flats (see docs/reconcile.md)."""
    if premise_id[-1:].isascii() and premise_id[-1:].isdigit():  # the usual case, fast
        digits = premise_id[len(premise_id.rstrip("0123456789")) :]
        return digits.lstrip("0") or "0"
    found = _TRAILING_NUMBER.search(premise_id.casefold())
    return (found.group(1) + found.group(2)) if found else ""


_FLAT_TAIL = re.compile(
    r"(?:кв|квартира|пом|помещение|оф|офис|комн|комната)\.?\s*№?\s*(\d+\s*[а-яa-z]?)\s*$"
)
_DASH_TAIL = re.compile(r"(?<=\d)(?:[а-яa-z]|[а-яa-z]?\d+)?-(\d+[а-яa-z]?)\s*$")
_TAIL = 48


def _flat_number(text: str) -> str:
    """``012 А`` -> ``12а`` (digits and a letter, as the patterns above capture them)."""
    out = text.replace(" ", "").casefold().replace("ё", "е")
    return out.lstrip("0") or "0"


def split_flat(text: str) -> tuple[str, str]:
    """``text`` without a trailing flat part (``…, кв. 2``, ``…, 44-2``) and that flat,
    normalized ("" if none): the house part repeats across a register's rows, so callers
    cache its parse."""
    # neither pattern spans a comma: the tail after the last one is enough, and short
    cut = max(len(text) - _TAIL, text.rfind(",") + 1)
    tail = text[cut:].lower()  # the same length: offsets stay valid
    if not tail[-1:].isalnum() and not tail.rstrip()[-1:].isalnum():
        return text, ""
    found = _FLAT_TAIL.search(tail)
    if found is not None:
        return text[: cut + found.start()].rstrip(" ,"), _flat_number(found.group(1))
    found = _DASH_TAIL.search(tail)
    if found is not None:
        return text[: cut + found.start(1) - 1], _flat_number(found.group(1))
    return text, ""

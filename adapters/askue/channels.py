"""Which quantity an 80020 measuring channel carries: by its code, a site table or its ``desc``.

80020 defines four channel codes: ``01`` A+ (active import), ``02`` A− (active export), ``03``
R+ (reactive import), ``04`` R− (reactive export). Producers write others: АльфаЦЕНТР 3.16
numbers the channels of a second meter set ``11``..``14`` (``desc="счетчик, акт. прием"``...),
other exports number channels on from ``05``. Such a channel is read as one of the four when

1. the site's table (``$UCHET_HOME/askue-channels.json``, ``{"11": "01", "15": "1-0:2.8.0"}``)
   names it (a value of ``""`` refuses the code), else
2. its ``desc`` says which (``акт. прием``, ``реакт. отдача``, ``A+``, ``R-``...).

Otherwise its values are quarantined ``unknown_channel``, each with its point, channel, period
and value, and the 80021 receipt is 2. A point whose extra channel would land on a quantity one
of its other channels already carries keeps the standard one; the extra one is quarantined.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from core.errors import ConfigError

STANDARD = ("01", "02", "03", "04")
NAMES = {"01": "A+", "02": "A-", "03": "R+", "04": "R-"}
OBIS = {
    "01": "1-0:1.8.0",
    "02": "1-0:2.8.0",
    "03": "1-0:3.8.0",
    "04": "1-0:4.8.0",
}
TABLE_FILE = "askue-channels.json"

_DIRECTION_IN = re.compile(r"пр[иоё][её]?м|прием|приём|import|\bin\b|потребл", re.IGNORECASE)
_DIRECTION_OUT = re.compile(r"отда[чв]|выда[чв]|export|\bout\b|генер", re.IGNORECASE)
_REACTIVE = re.compile(r"реакт|reactive|квар|kvar", re.IGNORECASE)
_ACTIVE = re.compile(r"акт|active|квт|kwh", re.IGNORECASE)
# A+ A- R+ R- with Latin or Cyrillic letters, standing alone
_SIGNED = re.compile(r"(?<![\w])([AaАа]|[RrРр])\s*([+\-−])(?![\w+\-])")


def by_description(desc: str | None) -> str | None:
    """The standard code a channel's ``desc`` names, or None when it does not say."""
    if not desc:
        return None
    m = _SIGNED.search(desc)
    if m is not None:
        reactive = m.group(1) in "RrРр"
        export = m.group(2) != "+"
        return STANDARD[2 * reactive + export]
    reactive = bool(_REACTIVE.search(desc))
    if not reactive and not _ACTIVE.search(desc):
        return None
    inward, outward = bool(_DIRECTION_IN.search(desc)), bool(_DIRECTION_OUT.search(desc))
    if inward == outward:
        return None
    return STANDARD[2 * reactive + outward]


def normalise(value: str, *, where: str) -> str:
    """A table value (``"01"``, ``"1"``, ``"A+"``, ``"1-0:1.8.0"``, ``""``) as a standard code
    (or ``""``: refused); ConfigError for anything else."""
    v = value.strip()
    if v == "":
        return ""
    if v.isdigit() and v.zfill(2) in STANDARD:
        return v.zfill(2)
    for code, obis in OBIS.items():
        if v in (obis, obis.split(":", 1)[1], NAMES[code]):
            return code
    raise ConfigError(
        f"{where}: {value!r} is not one of 01..04, A+/A-/R+/R- or their OBIS codes "
        f'({", ".join(OBIS.values())}); "" refuses the channel'
    )


def load_table(home: Path | None) -> dict[str, str]:
    """The site's channel table from ``$UCHET_HOME/askue-channels.json`` ({} if there is none)."""
    if home is None:
        return {}
    path = Path(home) / TABLE_FILE
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable JSON object: {exc}") from None
    return table(raw, where=str(path))


def table(raw: object, *, where: str = "channel table") -> dict[str, str]:
    """A checked channel table: 80020 channel code -> standard code (``""``: refused)."""
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ConfigError(f'{where}: expected an object {{"11": "01", ...}} of strings')
    out = {}
    for k, v in raw.items():
        key = k.strip()
        key = key.zfill(2) if key.isdigit() and len(key) < 2 else key
        out[key] = normalise(v, where=f"{where}, channel {k!r}")
    return out


def resolve(code: str, desc: str | None, table: Mapping[str, str]) -> tuple[str | None, str]:
    """(standard code, how) for a channel code as written (zero-filled), or (None, why not)."""
    if code in table:
        target = table[code]
        if target:
            return target, f"channel table: {code} is {NAMES[target]}"
        return None, f"the channel table refuses code {code}"
    if code in STANDARD:
        return code, "code"
    found = by_description(desc)
    if found is not None:
        return found, f"description {desc!r}: {NAMES[found]}"
    said = f" and its description {desc!r} does not say which" if desc else " and no description"
    return None, (
        f"code {code} is not one of 80020's 01..04{said}; map it in $UCHET_HOME/{TABLE_FILE}"
    )

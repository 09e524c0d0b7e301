"""Device profiles: the register map of one meter model, loaded from a JSON data file.

The format is documented in ``adapters/modbus/README.md``; the shipped profiles live in
``adapters/modbus/profiles/*.json`` and are referred to by their file stem.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from adapters.modbus.codec import ORDERS, TYPES, Decoder, make_decoder, words_of
from core.channels import canonical_unit, conversion_factor, normalize_channel
from core.errors import ConfigError, PayloadError
from core.reading import Kind

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
FUNCTIONS = (3, 4)
_PROFILE_KEYS = {
    "model",
    "source",
    "notes",
    "function",
    "byte_order",
    "word_order",
    "energy_prefix",
    "registers",
}
ENERGY_PREFIXES = ("", "k", "M")
"""Energy unit prefixes a meter can be set to (Eastron SDM: kWh or MWh on the display and the
bus, a setting of the meter): Wh, kWh, MWh (and varh/kvarh/Mvarh, VAh/kVAh/MVAh alike)."""
_ENERGY_BASES = ("Wh", "varh", "VAh")
_REGISTER_KEYS = {
    "name",
    "address",
    "function",
    "type",
    "byte_order",
    "word_order",
    "scale",
    "unit",
    "channel",
    "kind",
    "description",
}


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    """One value of a profile: where it is, how it is encoded, what it measures.

    ``address`` is the 0-based protocol address (Eastron "30073" is address 72).
    ``factor`` = scale × the unit's conversion factor to the channel's canonical unit.
    """

    name: str
    address: int
    function: int
    type: str
    byte_order: str
    word_order: str
    scale: float
    unit: str
    channel: str
    kind: Kind
    factor: float
    decode: Decoder

    @property
    def count(self) -> int:
        return words_of(self.type)

    @property
    def end(self) -> int:
        """One past the last register address this value occupies."""
        return self.address + self.count


@dataclass(frozen=True, slots=True)
class Profile:
    """A meter model's register map."""

    name: str
    model: str
    source: str
    registers: tuple[RegisterSpec, ...]


def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {message}")


def _choice(value: Any, allowed: tuple[Any, ...], where: str, field: str) -> Any:
    if value not in allowed:
        raise _fail(where, f"{field} {value!r} is not one of {', '.join(map(str, allowed))}")
    return value


def _register(raw: Any, index: int, defaults: dict[str, Any], origin: str) -> RegisterSpec:
    where = f"{origin}: registers[{index}]"
    if not isinstance(raw, dict):
        raise _fail(where, "must be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(where, "name is missing")
    where = f"{origin}: register {name!r}"
    unknown = set(raw) - _REGISTER_KEYS
    if unknown:
        raise _fail(where, f"unknown field(s) {', '.join(sorted(unknown))}")
    address = raw.get("address")
    if not isinstance(address, int) or isinstance(address, bool) or not 0 <= address <= 65535:
        raise _fail(where, f"address {address!r} must be an integer 0..65535")
    function = _choice(
        raw.get("function", defaults.get("function", 3)), FUNCTIONS, where, "function"
    )
    type_name = _choice(raw.get("type"), tuple(TYPES), where, "type")
    byte_order = _choice(
        raw.get("byte_order", defaults.get("byte_order", "big")), ORDERS, where, "byte_order"
    )
    word_order = _choice(
        raw.get("word_order", defaults.get("word_order", "big")), ORDERS, where, "word_order"
    )
    if address + words_of(type_name) > 65536:
        raise _fail(where, f"{type_name} at address {address} runs past register 65535")
    scale = raw.get("scale", 1)
    if (
        not isinstance(scale, int | float)
        or isinstance(scale, bool)
        or not math.isfinite(scale)
        or scale == 0
    ):
        raise _fail(where, f"scale {scale!r} must be a finite non-zero number")
    kind_name = raw.get("kind", "register")
    if kind_name != "register":
        # Interval values need an interval end the device does not report over Modbus.
        raise _fail(where, f"kind {kind_name!r} is not supported (only 'register')")
    unit = raw.get("unit")
    if not isinstance(unit, str):
        raise _fail(where, "unit is missing")
    channel_raw = raw.get("channel")
    if not isinstance(channel_raw, str):
        raise _fail(where, "channel is missing")
    try:
        channel = normalize_channel(channel_raw)
        factor = float(scale) * conversion_factor(unit, channel)
    except PayloadError as exc:
        raise _fail(where, exc.detail) from exc
    return RegisterSpec(
        name=name,
        address=address,
        function=function,
        type=type_name,
        byte_order=byte_order,
        word_order=word_order,
        scale=float(scale),
        unit=unit,
        channel=channel,
        kind=Kind.REGISTER,
        factor=factor,
        decode=make_decoder(type_name, byte_order=byte_order, word_order=word_order),
    )


def _energy_base(unit: str) -> str | None:
    """``Wh``/``varh``/``VAh`` for an energy unit with any prefix (``kvarh`` -> ``varh``)."""
    for base in _ENERGY_BASES:
        low = unit.lower()
        if low.endswith(base.lower()) and low[: -len(base)] in ("", "k", "m"):
            return base
    return None


def with_energy_prefix(profile: Profile, prefix: str, *, where: str | None = None) -> Profile:
    """The profile with every energy register read in ``prefix`` (``"M"``: MWh, Mvarh, MVAh),
    for a meter set to that prefix; other registers (volumes, heat) are left as they are."""
    where = where or f"profile {profile.name!r}"
    prefix = _choice(prefix, ENERGY_PREFIXES, where, "energy_prefix")
    regs = []
    for reg in profile.registers:
        base = _energy_base(reg.unit)
        if base is None or canonical_unit(reg.channel) not in ("kWh", "kvarh", "kVAh"):
            regs.append(reg)
            continue
        unit = prefix + base
        try:
            factor = reg.scale * conversion_factor(unit, reg.channel)
        except PayloadError as exc:
            raise _fail(f"{where}: register {reg.name!r}", exc.detail) from exc
        regs.append(replace(reg, unit=unit, factor=factor))
    return replace(profile, registers=tuple(regs))


def profile_from_dict(data: Any, *, name: str, origin: str | None = None) -> Profile:
    """Builds and validates a profile; errors name the file, the register and the field."""
    origin = origin or f"profile {name!r}"
    if not isinstance(data, dict):
        raise _fail(origin, "a profile must be a JSON object")
    unknown = set(data) - _PROFILE_KEYS
    if unknown:
        raise _fail(origin, f"unknown field(s) {', '.join(sorted(unknown))}")
    model = data.get("model")
    source = data.get("source")
    if not isinstance(model, str) or not model:
        raise _fail(origin, "model is missing")
    if not isinstance(source, str) or not source:
        raise _fail(origin, "source (the register map document this profile follows) is missing")
    raws = data.get("registers")
    if not isinstance(raws, list) or not raws:
        raise _fail(origin, "registers must be a non-empty list")
    defaults = {k: data[k] for k in ("function", "byte_order", "word_order") if k in data}
    registers = tuple(_register(raw, i, defaults, origin) for i, raw in enumerate(raws))
    seen: dict[str, str] = {}
    for reg in registers:
        if reg.channel in seen:
            raise _fail(
                origin,
                f"registers {seen[reg.channel]!r} and {reg.name!r} both map to channel "
                f"{reg.channel}",
            )
        seen[reg.channel] = reg.name
    names = [r.name for r in registers]
    if len(set(names)) != len(names):
        raise _fail(origin, "register names must be unique")
    profile = Profile(name=name, model=model, source=source, registers=registers)
    if "energy_prefix" in data:
        profile = with_energy_prefix(profile, data["energy_prefix"], where=origin)
    return profile


def load_profile(path: Path) -> Profile:
    """Loads a profile file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read profile: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
    return profile_from_dict(data, name=path.stem, origin=str(path))


def builtin_profiles() -> list[str]:
    """Names of the profiles shipped with uchet."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.json"))


def resolve_profile(ref: str, *, base: Path | None = None) -> Profile:
    """A profile by built-in name (``eastron_sdm630``) or by path (relative to ``base``).

    ``@MWh`` after either (``eastron_sdm630@MWh``; also ``@kWh``, ``@Wh``) reads the energy
    registers in that prefix, for a meter whose energy unit was switched (see
    :func:`with_energy_prefix`).
    """
    ref, at, unit = ref.partition("@")
    if at:
        prefix = unit[: -len("Wh")] if unit.endswith("Wh") else None
        if prefix is None or prefix not in ENERGY_PREFIXES:
            raise ConfigError(
                f"profile {ref}@{unit}: the energy unit after @ must be Wh, kWh or MWh"
            )
        return with_energy_prefix(resolve_profile(ref, base=base), prefix)
    if ref.endswith(".json") or "/" in ref:
        path = Path(ref)
        if not path.is_absolute() and base is not None:
            path = base / path
        return load_profile(path)
    path = PROFILES_DIR / f"{ref}.json"
    if not path.is_file():
        known = ", ".join(builtin_profiles())
        raise ConfigError(f"unknown profile {ref!r} (built-in: {known}; or give a .json path)")
    return load_profile(path)

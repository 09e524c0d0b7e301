"""PostgreSQL wire-protocol pieces the front end needs: framing, and the rewrites that let
many client connections share one server session (see server.py for how they are used).

Pure functions of bytes and strings, unit-tested in tests/timescale/test_wire.py.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104
CANCEL_REQUEST = 80877102
PROTOCOL_3 = 196608


def message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack(">I", len(body) + 4) + body


def split(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, body) of each backend message in ``data`` (complete messages only)."""
    i = 0
    while i < len(data):
        (n,) = struct.unpack_from(">I", data, i + 1)
        yield data[i : i + 1], data[i + 5 : i + 1 + n]
        i += 1 + n


def cstrings(body: bytes, count: int, start: int = 0) -> tuple[list[str], int]:
    """The first ``count`` NUL-terminated strings of ``body`` from ``start``, and the end."""
    out = []
    for _ in range(count):
        end = body.index(b"\0", start)
        out.append(body[start:end].decode())
        start = end + 1
    return out, start


def query(sql: str) -> bytes:
    return message(b"Q", sql.encode() + b"\0")


def error(code: str, text: str, severity: str = "ERROR") -> bytes:
    fields = f"S{severity}\0V{severity}\0C{code}\0M{text}\0\0"
    return message(b"E", fields.encode())


def ready(status: bytes = b"I") -> bytes:
    return message(b"Z", status)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", f"{name}\0{value}\0".encode())


def severity(body: bytes) -> str:
    """The non-localized severity (V field) of an ErrorResponse/NoticeResponse body."""
    for field in body.split(b"\0"):
        if field[:1] == b"V":
            return field[1:].decode()
    return ""


def notification(body: bytes) -> tuple[str, bytes]:
    """The channel of a NotificationResponse body, and the body with the pid left as is."""
    (channel,), _ = cstrings(body, 1, 4)
    return channel, body


# -- names: every connection gets its own prepared statements and portals -------------------


class Names:
    """Maps one connection's statement and portal names onto names unique in the session.

    The unnamed statement becomes a fresh named one per Parse (PostgreSQL replaces it
    implicitly; a named one cannot be), the superseded ones are returned by :meth:`stale` for
    closing; the unnamed portal stays unnamed (it ends with its transaction, and the session is
    owned by one connection per transaction).
    """

    def __init__(self, conn_id: int) -> None:
        self.prefix = f"pgwire{conn_id}_"
        self.statements: set[str] = set()
        self._unnamed = 0
        self._stale: list[str] = []

    def statement(self, name: str, *, parse: bool = False) -> str:
        if name:
            mapped = self.prefix + name
        else:
            if parse:
                if self._unnamed:
                    self._stale.append(f"{self.prefix}u{self._unnamed}")
                self._unnamed += 1
            mapped = f"{self.prefix}u{self._unnamed}"
        if parse:
            self.statements.add(mapped)
        return mapped

    def portal(self, name: str) -> str:
        return self.prefix + name if name else ""

    def closed(self, mapped: str) -> None:
        self.statements.discard(mapped)

    def stale(self) -> list[str]:
        out, self._stale = self._stale, []
        self.statements.difference_update(out)
        return out


def rewrite(kind: bytes, body: bytes, names: Names) -> bytes:
    """The frontend message ``kind``/``body`` with statement and portal names mapped."""
    if kind == b"P":
        (name,), end = cstrings(body, 1)
        return message(kind, names.statement(name, parse=True).encode() + b"\0" + body[end:])
    if kind == b"B":
        (portal, stmt), end = cstrings(body, 2)
        head = f"{names.portal(portal)}\0{names.statement(stmt)}\0".encode()
        return message(kind, head + body[end:])
    if kind in (b"D", b"C"):
        what = body[:1]
        (name,), _ = cstrings(body, 1, 1)
        mapped = names.statement(name) if what == b"S" else names.portal(name)
        if kind == b"C" and what == b"S":
            names.closed(mapped)
        return message(kind, what + mapped.encode() + b"\0")
    if kind == b"E":
        (portal,), end = cstrings(body, 1)
        return message(kind, names.portal(portal).encode() + b"\0" + body[end:])
    return message(kind, body)


# -- SQL the session cannot run as sent --------------------------------------------------------

_COPY_IN = re.compile(
    r"^\s*COPY\s+(?P<target>.+?)\s+FROM\s+STDIN\b(?P<rest>.*?)\s*;?\s*$", re.I | re.S
)
_BINARY = re.compile(r"\bFORMAT\s+\"?binary\b|\bBINARY\b", re.I)
_LISTEN = re.compile(r"^\s*(UN)?LISTEN\s+(\*|\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*)\s*;?\s*$", re.I)
_UNLISTEN_IN_SCRIPT = re.compile(r"\bUNLISTEN\s+(\*|\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*)\s*;", re.I)
_RESET_ALL = re.compile(r"\b(RESET\s+ALL|DISCARD\s+ALL)\b", re.I)
NOOP = "LISTEN pgwire_noop"
"""What an UNLISTEN is replaced with: the session keeps listening (other connections may be),
the front end stops delivering; same response shape (CommandComplete, no rows)."""


def copy_in(sql: str) -> tuple[str, bool] | None:
    """For ``COPY ... FROM STDIN``: the same COPY reading PGlite's /dev/blob, and whether the
    data is binary; None for any other statement."""
    m = _COPY_IN.match(sql)
    if m is None:
        return None
    return f"COPY {m['target']} FROM '/dev/blob'{m['rest']}", bool(_BINARY.search(m["rest"]))


def channel_name(token: str) -> str:
    if token.startswith('"'):
        return token[1:-1].replace('""', '"')
    return token.lower()


def listen(sql: str) -> tuple[bool, str] | None:
    """(listen?, channel) of a lone LISTEN/UNLISTEN statement ("*": all), else None."""
    m = _LISTEN.match(sql)
    if m is None:
        return None
    return m[1] is None, channel_name(m[2]) if m[2] != "*" else "*"


def unlistens(sql: str) -> tuple[str, list[str]]:
    """A script with its UNLISTEN statements replaced by :data:`NOOP`, and their channels."""
    channels: list[str] = []

    def sub(m: re.Match[str]) -> str:
        channels.append("*" if m[1] == "*" else channel_name(m[1]))
        return NOOP + ";"

    return _UNLISTEN_IN_SCRIPT.sub(sub, sql), channels


def resets(sql: str) -> bool:
    """Whether the SQL resets the session's settings (they are then set sane again)."""
    return bool(_RESET_ALL.search(sql))

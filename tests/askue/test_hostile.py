"""Hostile and broken inputs: each is refused quickly, with bounded memory and a clear error."""

from __future__ import annotations

import io
import pickle
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.askue import (
    AskueError,
    FileTooLargeError,
    ForbiddenXmlError,
    FormatError,
    NotXmlError,
    ParsedFile,
    ParseTimeoutError,
    ReceiptStatus,
    parse_bytes,
    parse_file,
    parse_files,
    parse_stream,
)
from tests.askue.helpers import message, periods, point
from tests.samples import ASKUE, needs_askue

SAMPLE = ASKUE / "80020_600004_20080227_810.xml"
BODY = '<message class="80020" version="2" number="1"><area>&x;</area></message>'

XXE_FILE = (
    '<?xml version="1.0"?><!DOCTYPE message [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + BODY
)
XXE_PARAMETER = (
    '<?xml version="1.0"?><!DOCTYPE message [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd">'
    "%p;]>" + BODY
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?><!DOCTYPE message SYSTEM "http://127.0.0.1:9/80020.dtd">' + BODY
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + ']><message class="80020" version="2" number="1"><area>&lol9;</area></message>'
)
QUADRATIC_BLOWUP = (
    '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "' + "x" * 50_000 + '">]>'
    '<message class="80020" version="2" number="1">' + "&a;" * 50_000 + "</message>"
)


def _refused(data: bytes, **kw: object) -> tuple[AskueError, float, int]:
    tracemalloc.start()
    t = time.perf_counter()
    try:
        with pytest.raises(AskueError) as info:
            parse_bytes(data, "hostile.xml", **kw)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value).startswith("hostile.xml: ")
    return info.value, elapsed, peak


@pytest.mark.parametrize(
    "doc",
    [XXE_FILE, XXE_PARAMETER, EXTERNAL_DTD, BILLION_LAUGHS, QUADRATIC_BLOWUP],
    ids=["xxe-file", "xxe-parameter-entity", "external-dtd", "billion-laughs", "quadratic"],
)
def test_dtds_and_entities_are_refused_before_any_expansion(doc: str) -> None:
    exc, elapsed, peak = _refused(doc.encode())
    assert isinstance(exc, ForbiddenXmlError)
    assert exc.receipt == ReceiptStatus.NOT_VALID_XML
    assert "DOCTYPE" in str(exc)
    assert elapsed < 1.0
    assert peak < 8 * 1024 * 1024  # the raw documents are < 1 MB; nothing was expanded


def test_an_undeclared_entity_is_not_resolved() -> None:
    exc, _, _ = _refused(message("&ext;"))
    assert isinstance(exc, NotXmlError)
    assert "undefined entity" in str(exc)


@needs_askue
def test_truncated_file_says_where_it_stops() -> None:
    data = SAMPLE.read_bytes()
    exc, elapsed, _ = _refused(data[: len(data) // 2])
    assert isinstance(exc, NotXmlError) and exc.receipt == ReceiptStatus.NOT_VALID_XML
    assert "truncated" in str(exc)
    assert "deliverygroup" in str(exc) or "peretok" in str(exc)
    assert exc.line == 2
    assert elapsed < 1.0


def test_utf8_declared_but_windows_1251_written() -> None:
    data = message(point("1", {"01": periods(["1"])})).decode().encode("cp1251")
    exc, _, _ = _refused(data)
    assert isinstance(exc, NotXmlError)
    assert "not UTF-8" in str(exc) and exc.line == 2 and exc.column is not None


def test_windows_1251_without_declaration_is_not_utf8() -> None:
    data = message(point("1", {"01": periods(["1"])}), encoding="utf-8")
    data = data.split(b"\r\n", 1)[1].decode().encode("cp1251")
    exc, _, _ = _refused(data)
    assert "not UTF-8" in str(exc) and "implies" in str(exc)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        (b"   \r\n ", "empty"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "not XML"),
        (b'{"message": 80020}', "not XML"),
        (b"\xff\xfe<\x00m\x00", "UTF-16"),
        (b'<?xml version="1.0" encoding="koi8-r"?><message/>', "koi8-r"),
        (b'<?xml version="1.0" encoding="utf-8"?><message class="80020"', "truncated"),
        (
            b'<?xml version="1.0"?><message class="80020" version="2" number="1"><a></b>',
            "mismatched",
        ),
    ],
    ids=["empty", "blank", "pdf", "json", "utf16", "koi8r", "cut-in-tag", "mismatched"],
)
def test_not_xml(data: bytes, says: str) -> None:
    exc, elapsed, _ = _refused(data)
    assert isinstance(exc, NotXmlError)
    assert exc.receipt == ReceiptStatus.NOT_VALID_XML
    assert says in str(exc)
    assert elapsed < 1.0


@pytest.mark.parametrize(
    ("root", "says"),
    [
        ('report class="80020" version="2"', "root element is <report>"),
        ('message class="80050" version="2"', "class is '80050'"),
        ('message class="80020" version="1"', "version is '1'"),
    ],
)
def test_well_formed_but_not_80020(root: str, says: str) -> None:
    exc, _, _ = _refused(message("", root=root))
    assert isinstance(exc, FormatError) and exc.receipt == ReceiptStatus.REJECTED_FORMAT
    assert says in str(exc)


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"number": "12a"}, "number '12a'"),
        ({"header": "<sender><inn>1</inn></sender>"}, "no <datetime><day>"),
        ({"day": "2024-01-15"}, "day '2024-01-15' is not YYYYMMDD"),
        ({"header": "<datetime><day>20240115</day></datetime>"}, "no <sender><inn>"),
    ],
)
def test_header_errors_are_fatal_and_named(kw: dict[str, str], says: str) -> None:
    exc, _, _ = _refused(message(point("1", {"01": periods(["1"])}), **kw))
    assert isinstance(exc, FormatError)
    assert says in str(exc)


def test_absurd_nesting_is_refused() -> None:
    exc, _, _ = _refused(message("<x>" * 1000 + "</x>" * 1000))
    assert isinstance(exc, FormatError) and "nested" in str(exc)


@needs_askue
def test_over_the_size_limit_while_reading() -> None:
    data = SAMPLE.read_bytes()
    exc, _, _ = _refused(data, max_bytes=len(data) - 1)
    assert isinstance(exc, FileTooLargeError) and str(len(data) - 1) in str(exc)
    assert parse_bytes(data, max_bytes=len(data)).value_count == 48


def test_an_endless_stream_stops_at_the_limit() -> None:
    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            b[:] = b" " * len(b)
            return len(b)

    head = b'<?xml version="1.0"?><message class="80020" version="2" number="1">'
    stream = io.BufferedReader(Endless())
    t = time.perf_counter()
    with pytest.raises(FileTooLargeError):
        parse_stream(
            _Chained(head, stream),  # type: ignore[arg-type]
            "endless.xml",
            max_bytes=3 * 1024 * 1024,
        )
    assert time.perf_counter() - t < 10


class _Chained:
    def __init__(self, head: bytes, rest: io.BufferedReader) -> None:
        self.head, self.rest = head, rest

    def read(self, n: int) -> bytes:
        if self.head:
            out, self.head = self.head, b""
            return out
        return self.rest.read(n)


def test_a_file_larger_than_the_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    with open(big, "wb") as f:
        f.truncate(51 * 1024 * 1024)  # sparse: nothing is read or written
    t = time.perf_counter()
    with pytest.raises(FileTooLargeError) as info:
        parse_file(big)
    assert time.perf_counter() - t < 0.5
    assert str(big) in str(info.value) and "larger than the limit" in str(info.value)


def test_time_bound() -> None:
    data = message("".join(point(str(i), {"01": periods(["1"] * 48)}) for i in range(600)))
    assert len(data) > 1 << 20  # more than one chunk
    exc, _, _ = _refused(data, timeout_s=0.0)
    assert isinstance(exc, ParseTimeoutError) and "longer than 0 s" in str(exc)


@needs_askue
def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    good = tmp_path / "good.xml"
    good.write_bytes(SAMPLE.read_bytes())
    bad = tmp_path / "bad.xml"
    bad.write_bytes(XXE_FILE.encode())
    results = list(parse_files([bad, tmp_path / "missing.xml", good, bad]))
    kinds: list[Callable[[object], bool]] = [
        lambda r: isinstance(r, ForbiddenXmlError) and r.file == str(bad),
        lambda r: isinstance(r, NotXmlError) and "cannot read" in str(r),
        lambda r: isinstance(r, ParsedFile) and r.value_count == 48,
        lambda r: isinstance(r, ForbiddenXmlError),
    ]
    assert [k(r) for k, r in zip(kinds, results, strict=True)] == [True] * 4


def test_errors_pickle_with_their_location() -> None:
    exc = FormatError("f.xml", "bad", line=3, column=7, point="P", channel="01", period="0000-0030")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is FormatError and str(back) == str(exc) and back.location() == exc.location()

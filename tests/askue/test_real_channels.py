"""Channel codes beyond 01..04 as real producers write them: the table, the description, and
what is quarantined when neither says (pure parsing, no store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.askue import ReceiptStatus, UnknownChannelError, parse_bytes
from adapters.askue.channels import by_description, load_table, table
from core.errors import ConfigError
from tests.askue.helpers import message, periods


def _point(code: str, channels: list[tuple[str, str | None, str]]) -> str:
    body = "".join(
        f'<measuringchannel code="{c}"' + (f' desc="{d}"' if d is not None else "") + f">{p}"
        "</measuringchannel>"
        for c, d, p in channels
    )
    return f'<measuringpoint code="{code}" name="Точка">{body}</measuringpoint>'


@pytest.mark.parametrize(
    ("desc", "code"),
    [
        ("счетчик, акт. прием", "01"),  # АльфаЦЕНТР
        ("счетчик, акт. отдача", "02"),
        ("счетчик, реакт. прием", "03"),
        ("счетчик, реакт. отдача", "04"),
        ("Энергия A+", "01"),  # SEDMAX, Latin A
        ("Энергия А-", "02"),  # Cyrillic А
        ("R+", "03"),
        ("Активная энергия, приём", "01"),
        ("счетчик", None),
        ("акт. прием и отдача", None),
        ("", None),
        (None, None),
    ],
)
def test_description(desc: str | None, code: str | None) -> None:
    assert by_description(desc) == code


def test_extra_channels_are_read_by_description_or_quarantined() -> None:
    values = periods(["1", "2"])
    body = _point(
        "P1",
        [("11", "счетчик, акт. прием", values), ("13", "счетчик, реакт. прием", values)],
    ) + _point("P2", [("01", "x", values), ("11", "акт. прием", values), ("21", None, values)])
    parsed = parse_bytes(message(body))
    read = {(s.point.code, s.code, s.channel) for s in parsed.series}
    assert read == {("P1", "11", "01"), ("P1", "13", "03"), ("P2", "01", "01")}
    unmapped = {(s.point.code, s.code): s for s in parsed.unmapped}
    assert set(unmapped) == {("P2", "11"), ("P2", "21")}
    assert "channel 01 of the point carries that quantity too" in unmapped["P2", "11"].how
    assert "no description" in unmapped["P2", "21"].how
    assert parsed.unmapped_count == 4 and parsed.value_count == 6
    assert parsed.receipt == ReceiptStatus.REJECTED_UNKNOWN_CHANNELS
    assert [type(e) for e in parsed.errors] == [UnknownChannelError]  # 21 is unknown outright


def test_the_site_table_wins_and_can_refuse() -> None:
    body = _point("P", [("11", "счетчик, акт. прием", periods(["1"])), ("15", None, "")])
    parsed = parse_bytes(message(body), channels=table({"11": "A-", "15": "1-0:4.8.0"}))
    assert {(s.code, s.channel) for s in parsed.series} == {("11", "02"), ("15", "04")}
    refused = parse_bytes(message(body), channels=table({"11": ""}))
    assert [s.code for s in refused.unmapped] == ["11", "15"]  # 15: no table entry, no desc
    assert "refuses code 11" in refused.unmapped[0].how


def test_the_table_file(tmp_path: Path) -> None:
    assert load_table(tmp_path) == {}
    (tmp_path / "askue-channels.json").write_text(json.dumps({"5": "01", "12": "2.8.0"}))
    assert load_table(tmp_path) == {"05": "01", "12": "02"}
    (tmp_path / "askue-channels.json").write_text(json.dumps({"12": "1-0:1.4.0"}))
    with pytest.raises(ConfigError, match=r"askue-channels\.json, channel '12'"):
        load_table(tmp_path)


@pytest.mark.parametrize("cls", ["80020", "80030", "80040"])
def test_the_family(cls: str) -> None:
    root = f'message class="{cls}" version="2"'
    parsed = parse_bytes(message(_point("P", [("01", "x", periods(["1"]))]), root=root))
    assert parsed.header.message_class == cls and parsed.value_count == 1

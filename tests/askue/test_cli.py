"""``uchet askue parse`` and ``uchet simulate askue``: JSON lines, error lines, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main
from tests.samples import ASKUE, needs_askue

SAMPLES = ASKUE


def _lines(out: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.decode().splitlines()]


@needs_askue
def test_parse_samples(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    files = sorted(str(p) for p in SAMPLES.glob("80020_*.xml"))
    assert main(["askue", "parse", *files]) == 0
    lines = _lines(capsysbinary.readouterr().out)
    assert len(lines) == 4 * 48  # the 2008-02-29 file has no values
    first = lines[0]
    assert first == {
        "file": files[0],
        "sender_inn": "600004",
        "point": "GMORDOV1",
        "channel": "1-0:1.8.0",
        "code": None,
        "start": "2008-02-26T21:00:00Z",
        "end": "2008-02-26T22:00:00Z",
        "value": "230952",
        "status": 0,
        "flags": [],
    }
    assert {line["point"] for line in lines} == {"GMORDOV1", "PMORDOVE-PMORDOV1"}
    assert all(isinstance(line["value"], str) for line in lines)


@needs_askue
def test_bad_files_give_error_lines_after_the_others(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    good = SAMPLES / "80020_600004_20080227_810.xml"
    truncated = tmp_path / "cut.xml"
    truncated.write_bytes(good.read_bytes()[:2000])
    bad_value = tmp_path / "bad_value.xml"
    bad_value.write_bytes(good.read_bytes().replace(b">230952<", b">23O952<", 1))
    code = main(["askue", "parse", str(truncated), str(bad_value), str(good)])
    assert code == 1
    lines = _lines(capsysbinary.readouterr().out)
    errors = [line for line in lines if "error" in line]
    values = [line for line in lines if "value" in line]
    assert [e["file"] for e in errors] == [str(truncated), str(bad_value)]
    assert errors[0]["receipt"] == 4 and "truncated" in str(errors[0]["error"])
    assert errors[1]["receipt"] == 3
    assert (errors[1]["point"], errors[1]["period"]) == ("GMORDOV1", "0000-0100")
    assert "'23O952'" in str(errors[1]["error"])
    assert len([v for v in values if v["file"] == str(bad_value)]) == 47
    assert len([v for v in values if v["file"] == str(good)]) == 48


@needs_askue
def test_size_limit_option(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    good = SAMPLES / "80020_600004_20080227_810.xml"
    assert main(["askue", "parse", "--max-bytes", "100", str(good)]) == 1
    (line,) = _lines(capsysbinary.readouterr().out)
    assert "larger than the limit of 100 bytes" in str(line["error"])


@needs_askue
def test_unknown_zone_is_one_line_on_stderr(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    good = SAMPLES / "80020_600004_20080227_810.xml"
    assert main(["askue", "parse", "--tz", "Nowhere/City", str(good)]) == 2
    captured = capsysbinary.readouterr()
    assert captured.out == b""
    assert b"unknown time zone 'Nowhere/City'" in captured.err


def test_simulate_then_parse(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    out = tmp_path / "sim"
    assert (
        main(
            [
                "simulate",
                "askue",
                "--out",
                str(out),
                "--points",
                "3",
                "--days",
                "2",
                "--minutes",
                "60",
                "--encoding",
                "utf-8",
                "--groups",
                "--corrections",
                "1",
                "--broken",
                "not_xml",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    summary = json.loads(capsysbinary.readouterr().out)
    truth = json.loads((out / "askue_truth.json").read_text())
    assert summary["files"] == len(truth["files"]) == 4
    assert summary["values"] == len(truth["values"]) == 2 * 5 * 24
    files = sorted(str(p) for p in out.glob("80020_*.xml"))
    assert main(["askue", "parse", *files]) == 1  # the not_xml file
    lines = _lines(capsysbinary.readouterr().out)
    assert len([x for x in lines if "error" in x]) == 1
    assert len([x for x in lines if "value" in x]) == 3 * 5 * 24


def test_simulate_refuses_bad_settings(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["simulate", "askue", "--out", str(tmp_path), "--broken", "nonsense"]) == 2
    assert b"unknown broken kinds" in capsysbinary.readouterr().err

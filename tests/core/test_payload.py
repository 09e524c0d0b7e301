"""Channels, units and payload decoding: the fast columnar decoder agrees with the exact one."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.batch import Columns, FastDecoder, to_us
from core.channels import canonical_unit, conversion_factor, normalize_channel, service_of
from core.errors import PayloadError
from core.payload import Rejected, decode_canonical
from core.validation import MAX_IDENTIFIER


@pytest.mark.parametrize(
    ("raw", "channel", "service", "unit"),
    [
        ("cold_water", "cold_water", "cold_water", "m3"),
        ("1.8.0", "1-0:1.8.0", "electricity", "kWh"),
        ("1-0:1.8.0*255", "1-0:1.8.0", "electricity", "kWh"),
        ("1-0:3.8.0", "1-0:3.8.0", "electricity", "kvarh"),
        ("8-0:1.0.0", "8-0:1.0.0", "cold_water", "m3"),
        ("6-0:1.0.0", "6-0:1.0.0", "heating", "Gcal"),
    ],
)
def test_channels(raw, channel, service, unit):
    assert normalize_channel(raw) == channel
    assert (service_of(channel), canonical_unit(channel)) == (service, unit)


@pytest.mark.parametrize("raw", ["water", "2-0:1.8.0", "1.8", ""])
def test_unknown_channels_are_refused(raw):
    with pytest.raises(PayloadError) as err:
        normalize_channel(raw)
    assert err.value.reason == "unknown_channel"


@pytest.mark.parametrize(
    ("unit", "channel", "factor"),
    [("Wh", "1.8.0", 1e-3), ("MWh", "electricity", 1e3), ("l", "cold_water", 1e-3),
     ("GJ", "heating", 1 / 4.1868), ("m³", "gas", 1.0)],
)  # fmt: skip
def test_unit_conversion(unit, channel, factor):
    assert math.isclose(conversion_factor(unit, normalize_channel(channel)), factor)


@pytest.mark.parametrize(
    ("unit", "channel"), [("l", "1.8.0"), ("kWh", "cold_water"), ("furlong", "gas")]
)
def test_units_that_do_not_fit_are_refused(unit, channel):
    with pytest.raises(PayloadError) as err:
        conversion_factor(unit, normalize_channel(channel))
    assert err.value.reason == "unknown_unit"


ELEMENT = st.fixed_dictionaries(
    {},
    optional={
        "meter": st.sampled_from(["m1", "m2", "", 7]),
        "channel": st.sampled_from(["cold_water", "1.8.0", "electricity", "x", None]),
        "ts": st.sampled_from(
            ["2026-03-01T00:00:00+03:00", "2026-03-01T00:00:00", 1772312400, 1772312400000,
             "yesterday", True, None]
        ),
        "value": st.one_of(
            st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10**6),
            st.sampled_from(["12.5", "n/a", True, None]),
        ),
        "unit": st.sampled_from(["m3", "l", "kWh", "Wh", "furlong", 3, None]),
        "kind": st.sampled_from(["register", "interval", "other"]),
    },
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(ELEMENT, st.lists(st.one_of(ELEMENT, st.integers()), max_size=5)),
       st.sampled_from([None, "m1"]))  # fmt: skip
def test_fast_decoder_agrees_with_the_exact_decoder(payload, topic_meter):
    exact = list(decode_canonical(payload, topic_meter=topic_meter))
    cols = Columns()
    FastDecoder().decode(payload, topic_meter=topic_meter, out=cols)
    readings = [r for r in exact if not isinstance(r, Rejected)]
    rejected = [r for r in exact if isinstance(r, Rejected)]
    assert [(r.reason, r.payload) for r in cols.rejected] == [
        (r.reason, r.payload) for r in rejected
    ]
    assert cols.meter == [r.meter for r in readings]
    assert cols.channel == [r.channel for r in readings]
    assert cols.ts == [to_us(r.ts) for r in readings]
    assert cols.value == [r.value for r in readings]
    assert cols.kind == [int(r.kind) for r in readings]


# Hostile elements (issue #15): each is rejected with its reason and raw element, and the good
# elements around it are decoded, by both decoders.
GOOD = {"meter": "m1", "channel": "cold_water", "ts": "2026-03-01T00:00:00Z", "value": 1.5}
HOSTILE = [
    ({**GOOD, "ts": "9999-12-31T23:59:59-01:00"}, "timestamp_out_of_range"),
    ({**GOOD, "ts": "0001-01-01T00:00:00+01:00"}, "timestamp_out_of_range"),
    ({**GOOD, "kind": "interval", "end": "9999-12-31T23:59:59-01:00"}, "timestamp_out_of_range"),
    ({**GOOD, "kind": "interval", "end": "0001-01-01T00:00:00+01:00"}, "timestamp_out_of_range"),
    ({**GOOD, "end": "9999-12-31T23:59:59-01:00"}, "timestamp_out_of_range"),
    ({**GOOD, "ts": 1e300}, "timestamp_out_of_range"),
    ({**GOOD, "ts": -1e300}, "timestamp_out_of_range"),
    ({**GOOD, "meter": "m\x001"}, "invalid_identifier"),
    ({**GOOD, "channel": "cold\x00water"}, "invalid_identifier"),
    ({**GOOD, "meter": "m1\n"}, "invalid_identifier"),
    ({**GOOD, "meter": "m\x1b[31m1"}, "invalid_identifier"),
    ({**GOOD, "meter": "m\x851"}, "invalid_identifier"),
    ({**GOOD, "channel": "cold_water\r"}, "invalid_identifier"),
    ({**GOOD, "meter": "x" * 4_000}, "invalid_identifier"),
    ({**GOOD, "meter": "x" * 201}, "invalid_identifier"),
    ({**GOOD, "channel": "1" * 4_000}, "invalid_identifier"),
    ({**GOOD, "value": 1.7e308, "unit": "MWh", "channel": "1.8.0"}, "malformed"),
    ({**GOOD, "value": "1e999"}, "malformed"),
    ({**GOOD, "value": "inf"}, "malformed"),
    ({**GOOD, "value": "-Infinity"}, "malformed"),
    ({**GOOD, "value": "nan"}, "malformed"),
    ({**GOOD, "value": float("inf")}, "malformed"),
    ({**GOOD, "value": float("nan")}, "malformed"),
    ({**GOOD, "value": "9" * 5_000}, "malformed"),
    ({**GOOD, "flags": 2**70}, "malformed"),
]


@pytest.mark.parametrize(("element", "reason"), HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("decoder", ["exact", "fast"])
def test_a_hostile_element_is_rejected_and_the_rest_decoded(element, reason, decoder):
    payload = [GOOD, element, {**GOOD, "ts": "2026-03-02T00:00:00Z"}]
    cols = Columns()
    if decoder == "fast":
        FastDecoder().decode(payload, topic_meter=None, out=cols)
    else:
        cols.extend(decode_canonical(payload, topic_meter=None))
    assert cols.meter == ["m1", "m1"]  # both good ones, in order
    assert cols.ts == [to_us(datetime(2026, 3, d, tzinfo=UTC)) for d in (1, 2)]
    [rejected] = cols.rejected
    assert rejected.reason == reason
    assert json.loads(rejected.payload) == json.loads(json.dumps(element))  # the raw element
    # nothing the store cannot hold or index: no NUL, short names, a bounded detail
    for text in (rejected.detail, rejected.meter or "", rejected.channel or ""):
        assert "\x00" not in text
    assert len(rejected.detail) < 400
    assert rejected.meter is None or len(rejected.meter) <= MAX_IDENTIFIER
    assert rejected.meter in (None, "m1")


def test_an_identifier_of_the_longest_allowed_length_is_kept():
    longest = "m" * MAX_IDENTIFIER
    cols = Columns()
    FastDecoder().decode({**GOOD, "meter": longest}, topic_meter=None, out=cols)
    assert cols.meter == [longest] and not cols.rejected


def test_a_hostile_meter_from_the_topic_is_rejected():
    cols = Columns()
    FastDecoder().decode(
        {k: v for k, v in GOOD.items() if k != "meter"}, topic_meter="x" * 300, out=cols
    )
    assert [r.reason for r in cols.rejected] == ["invalid_identifier"]


def test_an_unexpected_failure_in_an_element_is_contained():
    class Weird(float):  # a value type no decoder expects: its conversion raises
        def __float__(self) -> float:
            raise RuntimeError("boom")

    cols = Columns()
    cols.extend(decode_canonical([{**GOOD, "value": Weird(1.0)}, GOOD], topic_meter=None))
    assert cols.meter == ["m1"]
    assert [r.reason for r in cols.rejected] == ["malformed"]
    assert "RuntimeError" in cols.rejected[0].detail

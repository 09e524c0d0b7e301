"""Channels, units and payload decoding: the fast columnar decoder agrees with the exact one."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.batch import Columns, FastDecoder, to_us
from core.channels import canonical_unit, conversion_factor, normalize_channel, service_of
from core.errors import PayloadError
from core.payload import Rejected, decode_canonical


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

"""The submission route writes its JSON body by hand (for speed): it must be exactly what the
documented model, SubmissionResult, would have produced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.schemas import SubmissionResult
from tests.api.conftest import ALICE, Env


async def test_the_hand_written_body_is_the_model_s(env: Env) -> None:
    headers = await env.login(ALICE)
    meter = (await env.meters(headers))["apt1-cw"]
    url = f"/v1/resident/meters/{meter}/readings"
    taken = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=123456)
    for value, status, code in ((300.125, "accepted", 201), (300.125, "duplicate", 200)):
        r = await env.client.post(
            url, json={"value": value, "taken_at": taken.isoformat()}, headers=headers
        )
        assert r.status_code == code, r.text
        assert r.headers["content-type"] == "application/json"
        model = SubmissionResult.model_validate_json(r.content)
        assert r.content == model.model_dump_json().encode()
        assert (model.status, model.meter_id, model.value) == (status, meter, value)
        assert model.taken_at == taken
    # undated: stamped now, still the model's form
    r = await env.client.post(url, json={"value": 301.0}, headers=headers)
    assert r.status_code == 201, r.text
    assert r.content == SubmissionResult.model_validate_json(r.content).model_dump_json().encode()

"""Property-based fuzzing of the whole API from its OpenAPI schema (schemathesis), against a
real ``uchet api`` process: no 5xx, and every response matches the schema it documents."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.api.server import Server, api_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with api_server() as s:
        yield s


# Schema-valid requests may still break a business rule, answered 422 by design (a reading
# lower than the previous one, billing data with a gap): the "positive data acceptance" check
# would call that a failure. Every other default check runs, not_a_server_error among them.


def test_api_conforms_to_its_schema(server: Server) -> None:
    """Every operation, a bounded number of generated requests each (~1 minute in all)."""
    schema = schemathesis.openapi.from_url(server.base_url + "/openapi.json")
    # Both credentials on every request: the fuzzer then reaches past authentication.
    headers = {
        "Authorization": f"Bearer {server.resident_token}",
        "X-API-Key": server.operator_key,
    }
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,  # the same examples every run: a failure reproduces
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=server.base_url,
                headers=headers,
                excluded_checks=[positive_data_acceptance],
            )

        run()

"""schemathesis against /api/v1/openapi.json: for every operation, generated requests (bounded
examples) sent as a field worker and as a contractor's staff answer no server error and nothing
the document does not describe (status, content type, body schema).

The cases come from schemathesis's own strategies under hypothesis (`operation.as_strategy()`),
driven from a plain test: the lazily loaded pytest integration does not run under this pytest.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_support import bearer, clock, sides  # noqa: F401  (fixtures)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 10


def _aim(case, sides, n: int) -> None:
    """Every other case at the caller's own objects, so that generated requests also get past the
    ownership checks (the rest stay random: unknown ids answer 404)."""
    ours = sides.ours
    if isinstance(case.body, dict) and "assignment_id" in case.body:
        case.body["assignment_id"] = ours.given.id
    if case.path_parameters and "assignment_id" in case.path_parameters and n % 2 == 0:
        case.path_parameters["assignment_id"] = ours.given.id
    if isinstance(case.body, dict) and "contract_id" in case.body:
        case.body["contract_id"] = ours.contract.id


@pytest.mark.parametrize("who", ["field_token", "contractor_token"])
def test_generated_requests_get_no_server_error_and_conform_to_the_document(app, sides, who):
    app.config["API_RATE_LIMIT"] = app.config["API_WRITE_RATE_LIMIT"] = "100000 per minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    token = getattr(sides.ours, who)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8
    seen: dict[str, set[int]] = {}

    def exercise(operation) -> None:
        label = operation.label

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            _aim(case, sides, len(seen.get(label, ())))
            response = case.call(headers=bearer(token))
            seen.setdefault(label, set()).add(response.status_code)
            case.validate_response(response, checks=CHECKS)

        check()

    for operation in operations:
        exercise(operation)
    assert set(seen) == {operation.label for operation in operations}
    assert all(code < 500 for codes in seen.values() for code in codes)

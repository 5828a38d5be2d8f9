"""API fuzzing: schemathesis generates requests from the served OpenAPI document and sends them, as several
roles, to the real app on a real database; every answer must be no server error and exactly what the
document says (status listed, content type, body schema).

Bounded so `make test` stays fast: a few examples per operation and role (CAREPATH_FUZZ_EXAMPLES to raise
it for a longer hunt, e.g. 200). The world has a client with an open case and a completed task, so ids
1 and 2 name real records as well as the random ones naming none.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from carepath.web.openapi import openapi_document
from support import ApiClient

ROLES = ("intake", "case_manager", "supervisor", "quality", "admin")
EXAMPLES = int(os.environ.get("CAREPATH_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def fuzz_world(app, cp, driver):
    case_id = driver.new_case("Fuzz", "Target", case_manager="case_manager")
    driver.complete(driver.task(case_id, "record_referral"))
    api = ApiClient(app.test_client(), cp)
    return app, {role: api.token(role) for role in ROLES}


# The document the app serves (the same function builds it); each test sends its cases to a fresh app.
schema = schemathesis.openapi.from_dict(openapi_document())


def test_the_served_document_is_the_one_fuzzed(api):
    assert api.get("/api/v1/openapi.json")[1] == openapi_document()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_documented_for_every_role(case, fuzz_world):
    app, tokens = fuzz_world
    for role in ROLES:
        case.call_and_validate(app=app, headers={"Authorization": f"Bearer {tokens[role]}"}, checks=CHECKS)

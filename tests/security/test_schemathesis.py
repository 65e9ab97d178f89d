"""Schemathesis against each service's own OpenAPI document, served by a real process: cases
generated from the schemas, sent with an admin's token, an officer's token and none. No answer
may be a 5xx, and none may break the document (undocumented status, wrong content type, a body
that does not match its schema)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.utils.apps import Platform
from tests.utils.auth import bearer
from tests.utils.processes import service_env
from warroom_cli.embedded import serving
from warroom_shared.security.principal import AccessRole

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CALLERS = {
    "admin": bearer(AccessRole.ADMIN),
    "district officer": bearer(AccessRole.DISTRICT_OFFICER),
    "nobody": {},
}
FACTORIES = {
    "registry": "warroom_registry.app:create_app",
    "reporting": "warroom_reporting.app:create_app",
    "aggregator": "warroom_aggregator.app:create_app",
}
# A live stream never ends; the authorization matrix and the stream's own tests cover it.
ENDLESS = {"/v1/stream"}
EXAMPLES = 40


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_: object, value: object) -> bytes:
    """The bulk body is documented as a string of NDJSON lines."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


@pytest.fixture(params=list(FACTORIES))
def service(request: pytest.FixtureRequest, platform: Platform) -> Iterator[str]:
    env = service_env(
        platform.reporting.database_url, platform.reporting.nats_url, WARROOM_LOG_LEVEL="ERROR"
    )
    with serving(FACTORIES[request.param], env) as url:
        yield url


def test_generated_requests_never_get_a_5xx_nor_an_answer_outside_the_schema(service: str) -> None:
    schema = schemathesis.openapi.from_url(f"{service}/openapi.json")
    operations = [
        result.ok() for result in schema.get_all_operations() if result.ok().path not in ENDLESS
    ]
    assert len(operations) >= 6

    @given(data=st.data())
    @settings(
        max_examples=EXAMPLES * len(operations), deadline=None, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    def run(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations))
        case = data.draw(operation.as_strategy())
        caller = data.draw(st.sampled_from(list(CALLERS)))
        case.call_and_validate(base_url=service, headers=CALLERS[caller], checks=CHECKS)

    run()

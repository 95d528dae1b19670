"""Schemathesis drives every operation of the OpenAPI schema: no server error, and every
response conforms to its schema. Runs in process over ASGI, as a clinician of site A."""

from __future__ import annotations

from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from server_helpers import make_service, upload_example  # noqa: E402


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    service = make_service(Path(tmp_path_factory.mktemp("schemathesis")))
    service.patient = upload_example(service)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", service.app,
                                            headers=service.headers("alice"))  # fmt: skip
    return service, schema


def test_the_schema_is_served_only_with_a_token(api):
    service, _ = api
    assert service.client.get("/api/v1/openapi.json").status_code == 401
    spec = service.client.get("/api/v1/openapi.json", headers=service.headers("alice")).json()
    assert spec["info"]["title"] == "oncoresist"
    assert len(spec["paths"]) >= 20


def test_no_operation_gives_a_server_error(api):
    service, schema = api
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance,
              status_code_conformance]  # fmt: skip
    # logout ends the caller's session: every later operation would only see 401
    operations = [op.ok() for op in schema.get_all_operations()
                  if op.ok().label != "POST /api/v1/auth/logout"]  # fmt: skip
    assert len(operations) >= 20
    failures = []
    for user in ("alice", "rita", "root"):
        for operation in operations:
            try:
                _exercise(operation, service.headers(user), checks)
            except Exception as exc:
                failures.append(f"{user} {operation.label}: {type(exc).__name__}: {exc}"[:800])
    assert not failures, "\n\n".join(failures)


def _exercise(operation, headers: dict, checks: list) -> None:
    @settings(max_examples=15, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(headers=headers, checks=checks)

    run()

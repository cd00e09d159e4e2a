"""Schemathesis over the service's own /openapi.json: generated requests for every operation (positive and
negative: valid and invalid parameters and bodies) against the whole app over the captured data; not one
answer may be a server error (a 5xx other than 503, which a client retries). ``POST /api/v1/import`` is left
out: it reads the paths it is given on this machine, and a generated "/" would walk the whole disk; its bad
bodies are in tests/test_fuzz.py. ``POST /api/v1/import/upload`` (a hub's push: a gzip'd tar) is left out too:
schemathesis has no serializer for application/x-tar; its bad bodies, media types and sizes are in
tests/hub/test_upload_endpoint.py."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

EXCLUDED = {("POST", "/api/v1/import"), ("POST", "/api/v1/import/upload")}
EXAMPLES = 50  # per operation and mode (hypothesis stops sooner where the space is small)


def operations(api_schema):
    out = []
    for result in api_schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) not in EXCLUDED:
            out.append(op)
    return out


def test_the_schema_covers_the_reports(api_schema):
    paths = set(api_schema.raw_schema["paths"])
    assert {"/api/v1/usage", "/api/v1/tools", "/api/v1/errors", "/api/v1/activity",
            "/api/v1/sessions/{session_id}/timeline", "/api/v1/sql", "/v1/logs"} <= paths  # fmt: skip


def run_operation(op, mode, statuses: Counter) -> None:
    """Generated requests for one operation; counts the answers by (path, status) into ``statuses``."""

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=op.as_strategy(generation_mode=mode))
    def call(case):
        response = case.call(timeout=60)
        statuses[(op.path, response.status_code)] += 1
        if response.status_code != 503:  # the one 5xx a client may get (store busy), retried
            case.validate_response(response, checks=[not_a_server_error])

    try:
        call()
    except Unsatisfiable:  # an operation with nothing to make invalid (no parameters, no body)
        assert mode == GenerationMode.NEGATIVE and not op.path_parameters and not op.query and not op.body


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(api_schema, mode):
    statuses: Counter = Counter()
    for op in operations(api_schema):
        run_operation(op, mode, statuses)
    print(
        f"\nschemathesis {mode.value}: {sum(statuses.values())} requests",
        dict(Counter(k[1] for k in statuses.elements())),
    )
    assert sum(statuses.values()) >= EXAMPLES * len(operations(api_schema)) // 4
    assert not [k for k in statuses if k[1] >= 500 and k[1] != 503]

"""No client input gets a 5xx other than 503: a few thousand generated bad OTLP bodies (deep nesting, sizes,
wrong types, broken protobuf) and bad report parameters all get a 4xx (or a 200 with what could be used),
in the one error shape."""

from __future__ import annotations

import json
import random

import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSON_BODY = json.loads((FIXTURES / "otlp" / "r01-basic-json" / "logs-001.json").read_text())
PB_BODY = (FIXTURES / "otlp" / "r04-protobuf" / "logs-001.pb").read_bytes()
ALLOWED = {200, 400, 413, 415, 429, 503}

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
                    st.sampled_from(["", "abc", "0x", "-1", "1e999", "NaN", "AAAA", "00" * 16, "zz" * 8]))  # fmt: skip
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                           max_leaves=20)  # fmt: skip


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


ALL_PATHS = list(paths(JSON_BODY))


def replaced(doc, path, value):
    if not path:
        return value
    doc = json.loads(json.dumps(doc))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def check(response, allowed=ALLOWED):
    assert response.status_code in allowed, (response.status_code, response.text[:300])
    if response.status_code != 200 and response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        assert isinstance(body, dict)


@settings(max_examples=1200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(path=st.sampled_from(ALL_PATHS), value=json_values, signal=st.sampled_from(["logs", "metrics", "traces"]))
def test_json_bodies_with_a_field_of_the_wrong_type(client, path, value, signal):
    body = json.dumps(replaced(JSON_BODY, path, value), allow_nan=True).encode()
    check(client.post(f"/v1/{signal}", content=body, headers={"Content-Type": "application/json"}))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(depth=st.integers(min_value=1, max_value=200_000), opener=st.sampled_from(["[", '{"a":', '{"resourceLogs":[']))
def test_deeply_nested_json(client, depth, opener):
    closer = {"[": "]", '{"a":': "}", '{"resourceLogs":[': "]}"}[opener]
    body = (opener * depth + "1" + closer * depth).encode()
    check(client.post("/v1/logs", content=body, headers={"Content-Type": "application/json"}))


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(seed=st.integers(min_value=0, max_value=2**32), flips=st.integers(min_value=1, max_value=40),
       cut=st.integers(min_value=0, max_value=len(PB_BODY)), signal=st.sampled_from(["logs", "metrics", "traces"]))  # fmt: skip
def test_broken_protobuf(client, seed, flips, cut, signal):
    rng = random.Random(seed)
    data = bytearray(PB_BODY[:cut] if rng.random() < 0.3 else PB_BODY)
    for _ in range(flips if data else 0):
        data[rng.randrange(len(data))] = rng.randrange(256)
    check(client.post(f"/v1/{signal}", content=bytes(data), headers={"Content-Type": "application/x-protobuf"}))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(params=st.dictionaries(st.sampled_from(["group_by", "since", "until", "tz", "mode", "limit", "period",
                                               "order", "breakdown", "model", "attr.team", "attr.", "session",
                                               "tolerance", "format", "offset"]),
                              st.text(max_size=30), max_size=5),
       path=st.sampled_from(["/api/v1/usage", "/api/v1/cost", "/api/v1/sessions", "/api/v1/cost/reconcile",
                             "/api/v1/prices", "/api/v1/sessions/x%00y"]))  # fmt: skip
def test_report_parameters(replayed_client, params, path):
    check(replayed_client.get(path, params=params), allowed={200, 400, 404})


@pytest.mark.parametrize("body", [b"", b"{}", b"null", b"[]", b'{"query": 1}', b'{"query": ""}', b"\xff\xfe",
                                  b'{"query": "' + b"(" * 5000 + b'"}'])  # fmt: skip
def test_sql_bodies(replayed_client, body):
    check(replayed_client.post("/api/v1/sql", content=body, headers={"Content-Type": "application/json"}),
          allowed={200, 400})  # fmt: skip

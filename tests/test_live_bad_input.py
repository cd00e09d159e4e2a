"""No input to the insights, budgets, alerts and metrics endpoints gets a 5xx: generated parameters and budget
bodies all get a 200 or a 4xx in the one error shape (as tests/test_fuzz.py does for the reports)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_otlp import json_values
from test_fuzz import check

PARAMS = ["since", "until", "tz", "mode", "limit", "model", "attr.team", "attr.", "compare_model",
          "small_output_tokens", "budget", "colour"]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(params=st.dictionaries(st.sampled_from(PARAMS), st.text(max_size=30), max_size=5),
       path=st.sampled_from(["/api/v1/insights", "/api/v1/alerts", "/api/v1/budgets", "/metrics"]))  # fmt: skip
def test_parameters(replayed_client, params, path):
    check(replayed_client.get(path, params=params), allowed={200, 400})


budget = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.text(max_size=20), json_values), "period": st.sampled_from(["day", "week", "block", "x", 1]),
    "amount_usd": st.one_of(st.floats(allow_nan=True, allow_infinity=True), json_values),
    "amount_tokens": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), json_values),
    "filters": st.one_of(st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3), json_values),
    "thresholds": st.one_of(st.lists(st.floats(allow_nan=True), max_size=4), json_values),
    "webhook": st.one_of(st.text(max_size=30), json_values), "projected_overrun": json_values,
    "tz": st.one_of(st.text(max_size=20), json_values)})  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(body=st.one_of(json_values, st.fixed_dictionaries({"budgets": st.lists(budget, max_size=3)})))
def test_budget_bodies(client, body):
    r = client.put("/api/v1/budgets", content=json.dumps(body), headers={"Content-Type": "application/json"})
    check(r, allowed={200, 400})

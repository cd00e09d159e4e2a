"""Codex and Gemini requests priced by the book: Gemini's long-context tier above a 200K prompt, unknown
models of any agent null (never $0) and listed."""

import copy
import json

import pytest

from agents_support import CODEX_RUN, GEMINI_RUN, cost_by_hand
from support.otlp_replay import exports


def _export(run, event_name, **values) -> dict:
    """The captured export holding ``event_name``, with that record alone and its attributes changed."""
    for signal, export in exports(run):
        if signal != "logs":
            continue
        for rl in export["resourceLogs"]:
            for sl in rl["scopeLogs"]:
                for rec in sl["logRecords"]:
                    attrs = {a["key"]: a for a in rec["attributes"]}
                    if attrs.get("event.name", {}).get("value", {}).get("stringValue") == event_name and (
                            event_name != "codex.sse_event" or "input_token_count" in attrs):  # fmt: skip
                        rec = copy.deepcopy(rec)
                        for key, value in values.items():
                            kind = "stringValue" if isinstance(value, str) else "intValue"
                            attrs = {a["key"]: a for a in rec["attributes"]}
                            attrs[key]["value"] = {kind: value}
                        return {
                            "resourceLogs": [
                                {"resource": rl["resource"], "scopeLogs": [{"scope": sl["scope"], "logRecords": [rec]}]}
                            ]
                        }
    raise AssertionError(event_name)


def post(client, export):
    r = client.post("/v1/logs", content=json.dumps(export), headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text


def usage(client, **params):
    r = client.get("/api/v1/usage", params={"group_by": "model", "breakdown": "true", **params})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("prompt, tier", [(200_000, None), (200_001, "long_context")])
def test_gemini_long_context_tier_above_200k_prompt(client, store, prompt, tier):
    post(client, _export(GEMINI_RUN, "gemini_cli.api_response", model="gemini-2.5-pro", input_token_count=prompt,
                         cached_content_token_count=50_000, output_token_count=1_000, thoughts_token_count=500,
                         total_token_count=prompt + 1_500))  # fmt: skip
    body = usage(client)
    (row,) = body["rows"]
    tokens = {"input_tokens": prompt - 50_000, "cache_read_tokens": 50_000, "cache_creation_tokens": 0,
              "output_tokens": 1_500}  # fmt: skip
    assert {k: row[k] for k in tokens} == tokens
    assert row["computed_cost_usd"] == pytest.approx(cost_by_hand("gemini-2.5-pro", tokens, tier), abs=1e-12)
    assert price_tiers(store) == [tier or "base"]


def price_tiers(store) -> list[str]:
    """price_tier of every stored request, through the SQL the reports price with."""
    from cctelemetry.pricing import pricing_params
    from cctelemetry.reports.query import RequestFilter
    from cctelemetry.reports.source import priced_per_request

    flt = RequestFilter.build(since="2000-01-01", until="2100-01-01")
    head, params = priced_per_request(flt)
    rows = store.rows(
        head + "SELECT price_tier FROM priced", {**params, **flt.params(), **pricing_params("5m", "auto")}
    )
    return [r["price_tier"] for r in rows]


@pytest.mark.parametrize("run, event, model_attr", [
    (CODEX_RUN, "codex.sse_event", "model"),
    (GEMINI_RUN, "gemini_cli.api_response", "model"),
])  # fmt: skip
def test_unknown_model_of_any_agent_costs_null_and_is_listed(client, run, event, model_attr):
    post(client, _export(run, event, **{model_attr: "imaginary-model-9"}))
    body = usage(client)
    (row,) = body["rows"]
    assert row["model"] == "imaginary-model-9"
    assert row["computed_cost_usd"] is None and row["cost_usd"] is None
    assert row["unknown_models"] == ["imaginary-model-9"]
    assert "imaginary-model-9" in body["unpriced_models"]
    assert row["requests"] == 1 and row["input_tokens"] > 0

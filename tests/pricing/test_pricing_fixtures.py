"""Computed cost equals Claude Code 2.1.197's own cost_usd for every captured api_request event.

The bodies in tests/data/claude-code-2.1.197/otlp go through the real receiver (JSON and protobuf),
the materialized view fills the inbox, the fact writer takes it in, and priced_usage.sql prices each request.
The fake API's usage (fixtures README): sonnet-4-5 1234 in / 321 out / 91011 read / 5678 write = 0.003702 + 0.004815
+ 0.0273033 + 0.0212925 = $0.0571128; haiku-4-5 111 / 44 / 333 / 222 = 0.000111 + 0.00022 + 0.0000333
+ 0.0002775 = $0.0006418. Writes are priced as 5-minute writes (no split in OTel), as Claude Code does.
"""

import json

import pytest

from pricing_support import FIXTURES, post_claude_code_fixtures, priced

SUMMARY = json.loads((FIXTURES / "runs-summary.json").read_text())


def test_computed_cost_equals_reported_cost_for_every_api_request_event(client, service_state):
    assert post_claude_code_fixtures(client) > 0
    rows = list(priced(service_state.store).values())
    assert len(rows) == sum(run[2] for run in SUMMARY)  # every api_request event, once
    assert {r["model"] for r in rows} == {"claude-sonnet-4-5", "claude-haiku-4-5"}
    for r in rows:
        assert r["reported_cost_usd"] is not None
        assert r["computed_cost_usd"] == pytest.approx(r["reported_cost_usd"], abs=1e-9), r["request_key"]
        assert r["price_tier"] == "base" and r["cache_write_ttl_assumed"] == 1
    by_model = {r["model"]: r["computed_cost_usd"] for r in rows}
    assert by_model["claude-sonnet-4-5"] == pytest.approx(0.0571128, abs=1e-12)
    assert by_model["claude-haiku-4-5"] == pytest.approx(0.0006418, abs=1e-12)
    # per run: Σ computed = Σ reported = the event total in runs-summary.json
    for run, session, _, _, _, _, event_total, _ in SUMMARY:
        total = sum(r["computed_cost_usd"] for r in rows if r["session_id"] == session)
        assert total == pytest.approx(event_total, abs=1e-9), run

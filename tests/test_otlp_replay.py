"""Replaying what the real Claude Code 2.1.197 sent (JSON and protobuf) gives its own totals."""

import json

import pytest

from conftest import FIXTURES, post_fixtures

SUMMARY = {row[0]: row for row in json.loads((FIXTURES / "runs-summary.json").read_text())}
# run, session, api_request events, query sources, CLI total_cost_usd, Σ metric cost, Σ event cost, ccusage


@pytest.fixture
def replayed(replayed_client):
    return replayed_client


def usage_by(client, group_by, **params):
    r = client.get("/api/v1/usage", params={"group_by": group_by, **params})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("run", sorted(SUMMARY))
def test_session_totals_match_the_clients_own(replayed, run):
    _, session, n_requests, sources, cli_total, metric_total, event_total, _ = SUMMARY[run]
    rows = {r["session"]: r for r in usage_by(replayed, "session")["rows"]}
    row = rows[session]
    assert row["requests"] == n_requests
    assert row["reported_cost_usd"] == pytest.approx(event_total, abs=1e-12)
    assert row["cost_usd"] == pytest.approx(event_total, abs=1e-12)
    if cli_total is not None:
        assert row["cost_usd"] == pytest.approx(cli_total, abs=1e-9)


def test_tokens_are_the_fake_apis_fixed_usage(replayed):
    # sonnet 1234/321/91011/5678 per call, haiku 111/44/333/222 (fixtures/README.md)
    rows = {r["model"]: r for r in usage_by(replayed, "model")["rows"]}
    sonnet, haiku = rows["claude-sonnet-4-5"], rows["claude-haiku-4-5"]
    assert (sonnet["input_tokens"], sonnet["output_tokens"]) == (1234 * sonnet["requests"], 321 * sonnet["requests"])
    assert sonnet["cache_read_tokens"] == 91011 * sonnet["requests"]
    assert sonnet["cache_creation_tokens"] == 5678 * sonnet["requests"]
    assert (haiku["input_tokens"], haiku["output_tokens"]) == (111 * haiku["requests"], 44 * haiku["requests"])
    assert haiku["cache_read_tokens"] == 333 * haiku["requests"]
    assert haiku["cache_creation_tokens"] == 222 * haiku["requests"]


def test_subagent_run_has_two_models_and_its_agents(replayed):
    session = SUMMARY["r09-agent-haiku-subagent"][1]
    body = usage_by(replayed, "model,agent", session=session)
    got = {(r["model"], r["agent"]): r["requests"] for r in body["rows"]}
    # title generation by haiku (ANTHROPIC_DEFAULT_HAIKU_MODEL), two main-thread sonnet calls, one subagent call
    assert got == {
        ("claude-sonnet-4-5", "sdk"): 2,
        ("claude-haiku-4-5", "generate_session_title"): 1,
        ("claude-haiku-4-5", "custom"): 1,
    }
    assert body["totals"]["cost_usd"] == pytest.approx(0.1155092, abs=1e-12)


def test_cumulative_temporality_run_counts_each_request_once(replayed):
    session = SUMMARY["r12-cumulative-slow"][1]
    row = usage_by(replayed, "session", session=session)["rows"][0]
    assert row["requests"] == 3 and row["cost_usd"] == pytest.approx(0.1713384, abs=1e-12)


def test_replaying_everything_twice_counts_nothing_twice(client):
    post_fixtures(client)
    before = usage_by(client, "session")["totals"]
    post_fixtures(client)
    assert usage_by(client, "session")["totals"] == before


def test_resource_attribute_dimension(replayed):
    rows = usage_by(replayed, "agent_type")["rows"]
    assert {r["agent_type"] for r in rows} >= {"coordinator", ""}


def test_json_and_protobuf_give_the_same_rows(client, store):
    # r04 was captured as protobuf; its .pb.json is the same export as protobuf JSON mapping.
    for suffix, ctype in ((".pb", "application/x-protobuf"), (".pb.json", "application/json")):
        body = (FIXTURES / "otlp" / "r04-protobuf" / f"logs-001{suffix}").read_bytes()
        assert client.post("/v1/logs", content=body, headers={"Content-Type": ctype}).status_code == 200
    inbox = store.rows("SELECT source, count() n FROM api_request_inbox GROUP BY source")
    assert inbox == [{"source": "otel", "n": 2}]  # two copies of one request arrived...
    rows = store.rows("SELECT source, count() n FROM request_copies GROUP BY source")
    assert rows == [{"source": "otel", "n": 1}]  # ...the second was the same copy: nothing written for it
    assert usage_by(client, "session")["totals"]["requests"] == 1  # ...reported once

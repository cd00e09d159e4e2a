"""Codex CLI 0.169.0 and Gemini CLI 0.61.0: their captured OpenTelemetry replayed over HTTP/JSON and
HTTP/protobuf, and their own session files imported, give the fake APIs' usage, priced by the book, each
request once."""

from pathlib import Path

import pytest

from agents_support import (
    CODEX,
    CODEX_RUN,
    CODEX_SESSION,
    CODEX_USAGE,
    GEMINI,
    GEMINI_RUN,
    GEMINI_SESSION,
    GEMINI_USAGE,  # fmt: skip
    codex_tokens,
    cost_by_hand,
    gemini_tokens,
)
from support.otlp_replay import TRANSPORTS, replay

TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "reasoning_tokens")
CASES = {
    "codex": (CODEX_RUN, CODEX_SESSION, "gpt-5-codex", codex_tokens(CODEX_USAGE), CODEX_USAGE["total"], "codex",
              CODEX / "rollouts"),
    "gemini": (GEMINI_RUN, GEMINI_SESSION, "gemini-2.5-flash", gemini_tokens(GEMINI_USAGE), GEMINI_USAGE["total"],
               "gemini_cli", GEMINI / "chats"),
}  # fmt: skip


def session_row(client, session: str) -> dict:
    r = client.get("/api/v1/usage", params={"group_by": "session,agent_product,model,source", "session": session})
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert len(rows) == 1, rows
    return rows[0]


def import_files(client, paths, agent=None) -> dict:
    body = {"paths": [str(p) for p in paths]} | ({"agent": agent} if agent else {})
    r = client.post("/api/v1/import", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def assert_usage(row, model, tokens, product, n=1):
    assert row["agent_product"] == product and row["model"] == model
    assert row["requests"] == n
    assert {k: row[k] for k in TOKENS} == {k: v * n for k, v in tokens.items()}
    assert row["computed_cost_usd"] == pytest.approx(n * cost_by_hand(model, tokens), abs=1e-12)
    assert row["cost_usd"] == row["computed_cost_usd"]  # no reported cost: computed, in every mode
    assert row["reported_cost_usd"] is None or row["reported_cost_usd"] == 0


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
@pytest.mark.parametrize("agent", sorted(CASES))
def test_replay_gives_the_fake_apis_usage_priced_by_the_book(client, agent, transport):
    run, session, model, tokens, total, product, _ = CASES[agent]
    assert replay(TRANSPORTS[transport](client), run) >= 1
    row = session_row(client, session)
    assert_usage(row, model, tokens, product)
    assert row["source"] == "otel"
    # the four disjoint measures add up to the agent's own total; reasoning is inside output
    assert sum(row[k] for k in TOKENS[:4]) == total
    assert row["reasoning_tokens"] <= row["output_tokens"]


def test_the_hand_prices_are_the_ones_ccusage_and_the_book_agree_on():
    # ccusage 20.0.24 --offline on the same files (gemini's thoughts priced, though not shown, as output)
    assert cost_by_hand("gpt-5-codex", codex_tokens(CODEX_USAGE)) == pytest.approx(0.00590125, abs=1e-15)
    assert cost_by_hand("gemini-2.5-flash", gemini_tokens(GEMINI_USAGE)) == pytest.approx(0.0014068, abs=1e-15)


@pytest.mark.parametrize("agent", sorted(CASES))
def test_replaying_twice_counts_once(client, agent):
    run, session, model, tokens, _, product, _ = CASES[agent]
    replay(TRANSPORTS["http/json"](client), run)
    replay(TRANSPORTS["http/protobuf"](client), run)
    assert_usage(session_row(client, session), model, tokens, product)


@pytest.mark.parametrize("agent", sorted(CASES))
def test_importing_the_session_file_gives_the_same_totals(client, agent):
    _, session, model, tokens, _, product, files = CASES[agent]
    summary = import_files(client, [files], agent)
    assert (summary["requests"], summary["new_requests"], summary["rows_written"]) == (1, 1, 1)
    row = session_row(client, session)
    assert_usage(row, model, tokens, product)
    assert row["source"] == "transcript"
    again = import_files(client, [files], agent)
    assert again["files_unchanged"] == 1 and again["rows_written"] == 0


@pytest.mark.parametrize("order", ["replay_then_import", "import_then_replay"])
@pytest.mark.parametrize("agent", sorted(CASES))
def test_a_request_in_telemetry_and_a_session_file_counts_once(client, store, agent, order):
    run, session, model, tokens, _, product, files = CASES[agent]
    if order == "replay_then_import":
        replay(TRANSPORTS["http/protobuf"](client), run)
        summary = import_files(client, [files])  # the agent detected from the path
        assert summary["known_requests"] == 1
    else:
        import_files(client, [files])
        replay(TRANSPORTS["http/json"](client), run)
    row = session_row(client, session)
    assert_usage(row, model, tokens, product)
    assert row["source"] == "otel+transcript"
    live = store.rows("SELECT source, request_id FROM request_copies FINAL WHERE superseded = 0")
    assert [r["source"] for r in live] == ["merged"]
    if agent == "codex":  # the rollout's response id, which telemetry lacks, is kept
        assert live[0]["request_id"] == "resp_fakefb74b5c04f0142df"


def test_every_agent_detected_in_one_import(client, tmp_path):
    summary = import_files(client, [CODEX / "rollouts", GEMINI / "chats", Path(__file__).parent / "data"
                                    / "claude-config-projects"])  # fmt: skip
    r = client.get("/api/v1/usage", params={"group_by": "agent_product"})
    got = {row["agent_product"]: row["requests"] for row in r.json()["rows"]}
    assert got["codex"] == 1 and got["gemini_cli"] == 1 and got["claude_code"] > 1
    assert summary["requests"] == sum(got.values())


def test_unknown_agent_is_a_clear_400(client):
    r = client.post("/api/v1/import", json={"paths": [str(CODEX)], "agent": "cursor"})
    assert r.status_code == 400
    body = r.json()
    assert body["ok"] is False and "cursor" in body["error"]


def test_session_detail_shows_reasoning(client):
    replay(TRANSPORTS["http/json"](client), GEMINI_RUN)
    r = client.get(f"/api/v1/sessions/{GEMINI_SESSION}")
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["session"]["reasoning_tokens"] == 100
    assert [q["reasoning_tokens"] for q in detail["requests"]] == [100]
    assert detail["session"]["agent_product"] == "gemini_cli"
    assert {e["event_name"] for e in detail["events"]} >= {"user_prompt", "api_request"}

"""A request delivered by telemetry and by a transcript is counted once, whichever arrives first:
telemetry's cost and agent, the transcript's cache-write split and project."""

import json

import pytest

from cctelemetry.ingest import facts
from request_copies import insert_copies
from test_otlp_http import api_request_log

COLUMNS = [
    "timestamp",
    "agent_product",
    "session_id",
    "request_id",
    "message_id",
    "request_key",
    "model",
    "agent",
    "project",
    "git_branch",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "cache_creation_5m_tokens",
    "cache_creation_1h_tokens",
    "cache_split_known",
    "source",
    "source_priority",
]


def transcript_row(store, key, session="s-m", output=20, take_in=True):
    # same tokens as api_request_log (10/20/30/40); of the 40 cache writes, 40 were 1-hour writes
    insert_copies(store, [["2026-11-22 10:00:00.000", "claude_code", session, key, "msg_1", key,
                           "claude-sonnet-4-5", "main", "/home/me/proj", "main", 10, output, 30, 40, 0, 40,
                           1, "transcript", 1]], COLUMNS, take_in)  # fmt: skip


def post(client, key, session="s-m"):
    r = client.post("/v1/logs", content=json.dumps(api_request_log(session=session, request_id=key)),
                    headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 200


def only_row(client, session="s-m"):
    body = client.get("/api/v1/usage", params={"group_by": "session,project,source", "session": session}).json()
    assert len(body["rows"]) == 1, body["rows"]
    return body["rows"][0]


# sonnet 4.5: 10 x 3 + 20 x 15 + 30 x 0.30 + 40 x 6 (1h) = 30 + 300 + 9 + 240 = 579 per million
COMPUTED_WITH_SPLIT = 579e-6


@pytest.mark.parametrize("transcript_first", [True, False])
def test_merged_once_whichever_comes_first(client, store, transcript_first):
    if transcript_first:
        transcript_row(store, "req_m1")
        post(client, "req_m1")
    else:
        post(client, "req_m1")
        transcript_row(store, "req_m1")
    row = only_row(client)
    assert row["requests"] == 1 and row["source"] == "otel+transcript"
    assert row["project"] == "/home/me/proj"
    assert row["reported_cost_usd"] == 0.25  # telemetry's
    assert row["computed_cost_usd"] == pytest.approx(COMPUTED_WITH_SPLIT, abs=1e-12)  # the transcript's split


def test_merging_again_changes_nothing(client, store):
    transcript_row(store, "req_m2")
    post(client, "req_m2")
    before = only_row(client)
    facts.apply(store, lookback_s=3600)  # taking the same copies in again
    post(client, "req_m2")  # a retried export
    transcript_row(store, "req_m2")  # a re-logged transcript line
    assert only_row(client) == before


def test_a_request_never_counts_twice_even_before_it_is_merged(client, store):
    store.command("SYSTEM STOP MERGES request_copies")
    post(client, "req_m3")
    transcript_row(store, "req_m3", take_in=False)  # in the inbox, not taken in yet (a crash, say)
    assert client.get("/api/v1/usage", params={"session": "s-m"}).json()["totals"]["requests"] == 1
    facts.recover(store)  # what the service does when it starts
    row = only_row(client)
    assert row["requests"] == 1 and row["source"] == "otel+transcript"


def test_single_source_copies_keep_the_largest(client, store):
    transcript_row(store, "req_m4", session="s-big", output=1)  # a streamed partial copy
    transcript_row(store, "req_m4", session="s-big", output=20)
    row = only_row(client, "s-big")
    assert (row["requests"], row["output_tokens"]) == (1, 20)

"""The real Claude Code 2.1.197 transcripts (tests/data/claude-config-projects): per-session tokens and cost
equal ccusage 20.0.24's ``claude session --offline --json``.

The comparison runs twice: against a snapshot of ccusage's output (always), and against ccusage itself
when npm can install the pinned version (scripts/install-ccusage.sh), which also checks the snapshot.
On this tree ccusage is not known to be wrong: its figures are the transcripts' exactly. What neither
sees (the title-generation request) is in test_otel_merge.py.
"""

from __future__ import annotations

import json

import pytest

from cctelemetry.ingest.transcripts import import_transcripts
from transcripts_support import CCUSAGE_SNAPSHOT, ccusage_sessions, copy_tree, per_session, transcript_rows

TOKENS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")


@pytest.fixture
def imported(store, tmp_path):
    projects = copy_tree(tmp_path / "claude")
    summary = import_transcripts(store, [projects])
    return summary, per_session(transcript_rows(store))


def _compare(ours: dict[str, dict], theirs: dict) -> None:
    by_session = {s["sessionId"]: s for s in theirs["sessions"]}
    assert set(ours) == set(by_session)
    for session_id, expected in by_session.items():
        got = ours[session_id]
        for key in TOKENS:
            assert got[key] == expected[key], (session_id, key)
        assert got["cost"] == pytest.approx(expected["totalCost"], abs=1e-9), session_id
    for key in TOKENS:
        assert sum(s[key] for s in ours.values()) == theirs["totals"][key]
    assert sum(s["cost"] for s in ours.values()) == pytest.approx(theirs["totals"]["totalCost"], abs=1e-9)


def test_matches_ccusage_snapshot(imported):
    summary, ours = imported
    _compare(ours, json.loads(CCUSAGE_SNAPSHOT.read_text()))
    # 12 sessions (11 runs + the lost first attempt of r01), 2 subagent files
    assert summary.files == 14 and summary.files_read == 14
    # 24 assistant lines with usage; 3 are the second line of a text + tool_use response
    assert (summary.request_lines, summary.requests, summary.duplicate_lines) == (24, 21, 3)
    assert summary.new_requests == summary.rows_written == 21
    assert summary.skipped_lines == {} and summary.skipped_files == {}


def test_matches_ccusage_live(imported, tmp_path):
    _, ours = imported
    config = tmp_path / "ccusage-config"
    copy_tree(config)
    live = ccusage_sessions(config, tmp_path / "home")
    _compare(ours, live)
    # the snapshot the other test uses is what this ccusage prints
    snapshot = json.loads(CCUSAGE_SNAPSHOT.read_text())
    strip = lambda body: sorted(  # noqa: E731
        ({k: v for k, v in s.items() if k not in ("firstActivity", "lastActivity")} for s in body["sessions"]),
        key=lambda s: s["sessionId"],
    )
    assert strip(live) == strip(snapshot)


def test_fact_rows_carry_the_transcript_fields(store, tmp_path):
    projects = copy_tree(tmp_path / "claude")
    import_transcripts(store, [projects])
    rows = {r["request_key"]: r for r in transcript_rows(store)}
    # the subagent of r10 (hi-agent on haiku): two requests, the first written as text + tool_use lines
    sub = rows["req_fakee11f5103ffe24cd8a328"]
    assert sub["session_id"] == "8a0ff020-faf3-401e-a257-17ccc1f45658"
    assert sub["model"] == "claude-haiku-4-5" and sub["agent"] == "hi-agent"
    assert (sub["input_tokens"], sub["output_tokens"], sub["cache_creation_tokens"], sub["cache_read_tokens"]) == (
        111, 44, 222, 333)  # fmt: skip
    assert (sub["cache_split_known"], sub["cache_creation_5m_tokens"], sub["cache_creation_1h_tokens"]) == (1, 222, 0)
    assert sub["message_id"] == "msg_fake24924c6d1d6e4e6586d4"
    main = rows["req_fake068c7d00b06641edb33b"]
    assert main["agent"] == "main" and main["project"] == "/home/dev01/work" and main["git_branch"] == "HEAD"
    assert main["speed"] == "normal" and main["reported_cost_usd"] is None
    assert all(r["request_key"] == r["request_id"] for r in rows.values())


def test_price_book_prices_sessions_as_ccusage(imported, store):
    # The service's own pricing (pricing/sql/priced_usage.sql over the shipped price book) on the imported
    # requests: per session, ccusage's cost. (The other tests use a local two-model table.)
    pricing = pytest.importorskip("cctelemetry.pricing")
    from cctelemetry.reports.query import RequestFilter
    from cctelemetry.reports.source import priced_per_request

    pricing.sync_prices(store, pricing.load_book(user_file=""))
    flt = RequestFilter.build()
    head, params = priced_per_request(flt)
    params.update(flt.params(), **pricing.pricing_params("5m", "calculate"))
    sql = head + "SELECT session_id, toFloat64(sum(cost_usd)) AS cost FROM priced GROUP BY 1"
    ours = {r["session_id"]: r["cost"] for r in store.rows(sql, params)}
    theirs = {s["sessionId"]: s["totalCost"] for s in json.loads(CCUSAGE_SNAPSHOT.read_text())["sessions"]}
    assert set(ours) == set(theirs)
    for session, cost in theirs.items():
        assert ours[session] == pytest.approx(cost, abs=1e-9), session

"""The same Claude Code sessions received as OpenTelemetry and imported from transcripts count each request
once: per session, the merged totals are the CLI's own ``total_cost_usd`` (runs-summary.json).

The title-generation request is only in telemetry (Claude Code does not write it to the transcript), so
it is counted once, from telemetry. ccusage, which reads transcripts only, misses it: that is the known
difference between ccusage's session cost and the CLI's (real-client-capture.md §8), and not a ccusage bug.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from cctelemetry.ingest import body_to_batch, facts
from cctelemetry.ingest.mapping import TABLE_COLUMNS
from cctelemetry.ingest.transcripts import import_transcripts
from transcripts_support import FIXTURES, copy_tree

SUMMARY = {row[0]: row for row in json.loads((FIXTURES / "runs-summary.json").read_text())}
# run, session, api_request events, query sources, CLI total_cost_usd, Σ metric cost, Σ event cost, ccusage


def insert_otlp_logs(store) -> int:
    """Every captured OTLP logs body (JSON, and raw protobuf for the protobuf runs) into otel_logs as the
    service's writer does: insert (the materialized view fills the inbox), then the fact writer takes the
    copies in (ingest/facts.py), merging any that a transcript delivered too."""
    n = 0
    for path in sorted((FIXTURES / "otlp").glob("*/logs-*")):
        if path.name.endswith((".meta.json", ".pb.json")):
            continue
        content_type = "application/x-protobuf" if path.suffix == ".pb" else "application/json"
        batch = body_to_batch("logs", path.read_bytes(), content_type, None, 64 * 2**20)
        for table, rows in batch.items():
            n += store.insert(table, rows, TABLE_COLUMNS[table])
        facts.apply(store)
    return n


def merged(store) -> dict[str, dict]:
    """Per session, over the live row of every request (what the `requests` view and the rollup count)."""
    sql = """
        WITH req AS (SELECT *, if(source = 'merged', 'otel+transcript', toString(source)) AS sources
                     FROM request_copies FINAL WHERE superseded = 0)
        SELECT session_id, count() AS requests, sum(toDecimal128(reported_cost_usd, 12)) AS cost,
               sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cache_read_tokens) AS read,
               sum(cache_creation_tokens) AS write, countIf(sources = 'otel+transcript') AS both,
               countIf(sources = 'otel') AS otel_only, countIf(sources = 'transcript') AS transcript_only,
               countIf(cache_split_known = 1) AS split_known,
               groupUniqArrayIf(project, sources != 'otel') AS projects
        FROM req GROUP BY session_id
    """
    return {r["session_id"]: r for r in store.rows(sql)}


@contextmanager
def order(store, tmp_path, first: str):
    projects = copy_tree(tmp_path / "claude")
    if first == "otel":
        insert_otlp_logs(store)
        summary = import_transcripts(store, [projects])
    else:
        summary = import_transcripts(store, [projects])
        insert_otlp_logs(store)
    yield summary


@pytest.mark.parametrize("first", ["otel", "transcripts"])
def test_each_request_once_and_the_clis_cost(store, tmp_path, first):
    with order(store, tmp_path, first) as summary:
        sessions = merged(store)
    if first == "otel":
        # every transcript request was already there as telemetry: nothing is new
        assert (summary.requests, summary.known_requests, summary.new_requests) == (21, 20, 1)
    for run, (_, session, n_events, sources, cli_total, _, event_total, ccusage) in SUMMARY.items():
        row = sessions[session]
        assert row["requests"] == n_events, run  # the title request once, from telemetry
        assert float(row["cost"]) == pytest.approx(cli_total if cli_total is not None else event_total, abs=1e-9), run
        titles = sources.get("generate_session_title", 0)
        assert row["otel_only"] == titles and row["transcript_only"] == 0, run
        assert row["both"] == n_events - titles, run
        # what transcripts add: the 5m/1h split and the project
        assert row["split_known"] == n_events - titles and row["projects"] == ["/home/dev01/work"], run
        # ccusage reads transcripts only: it misses exactly the title request
        missing = float(row["cost"]) - ccusage[0]
        assert (missing > 1e-9) == (titles > 0), run
    # the first attempt of r01 lost its telemetry: it is there from its transcript alone
    assert sessions["488b25f6-c87a-49dd-b07b-664c6d323a5d"]["transcript_only"] == 1


def test_tokens_come_from_telemetry_and_match(store, tmp_path):
    with order(store, tmp_path, "otel"):
        sessions = merged(store)
    # the fake API's fixed usage: sonnet 1234/321/91011/5678, haiku 111/44/333/222 per call
    r09 = sessions[SUMMARY["r09-agent-haiku-subagent"][1]]
    assert (r09["input"], r09["output"], r09["read"], r09["write"]) == (
        2 * 1234 + 2 * 111, 2 * 321 + 2 * 44, 2 * 91011 + 2 * 333, 2 * 5678 + 2 * 222)  # fmt: skip


def test_reimport_after_telemetry_adds_nothing(store, tmp_path):
    with order(store, tmp_path, "transcripts"):
        pass
    before = merged(store)
    again = import_transcripts(store, [tmp_path / "claude" / "projects"])
    assert again.rows_written == 0 and again.files_unchanged == 14
    assert merged(store) == before

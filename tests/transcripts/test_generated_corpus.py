"""A generated tree (tests/transcripts/corpus.py) with every kind of copy and bad input: exact totals.

And ccusage 20.0.24 over the same tree: it agrees except where it is known to be wrong, and each such
case is modelled and explained in ``ccusage_model`` below:

A. It reads only lines containing ``"usage":{`` verbatim (a pre-filter before parsing). A line written with
   a space (``"usage": {``, pretty-printed by another tool) is valid JSON with a real request in it, and it
   is not counted. (fixtures/README.md: "it only sees lines written as compact JSON".)
B. Without a request id it de-duplicates by (session, message id) (ccusage PRs #1661/#1765), so
   B1. a relay that gives every response the same message id (ccusage #1635) collapses a session's distinct
       responses to the largest one: an undercount;
   B2. a requestless response re-logged into another session by a resume counts again there: an
       overcount. We key such responses by message id + input side (input, cache read, cache write), which
       copies share and distinct responses do not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cctelemetry.ingest.transcripts import import_transcripts
from corpus import Corpus
from transcripts_support import ccusage_sessions, price_of, request_cost, transcript_rows


@pytest.fixture
def corpus(tmp_path) -> Corpus:
    return Corpus(tmp_path / "claude").build()


def test_exact_totals_and_rows(store, corpus):
    summary = import_transcripts(store, [corpus.projects])
    assert summary.files == len(corpus.files) == summary.files_read
    assert summary.lines == corpus.lines
    assert summary.request_lines == corpus.request_lines
    assert summary.requests == summary.new_requests == summary.rows_written == len(corpus.expected)
    assert summary.duplicate_lines == corpus.request_lines - len(corpus.expected)
    assert summary.skipped_lines == corpus.skipped
    assert summary.skipped_files == {} and summary.errors == []

    rows = {r["request_key"]: r for r in transcript_rows(store)}
    assert set(rows) == set(corpus.expected)
    for key, want in corpus.expected.items():
        got = rows[key]
        assert (got["session_id"], got["model"], got["agent"], got["speed"]) == (
            want.session, want.model, want.agent, want.speed), key  # fmt: skip
        assert (got["input_tokens"], got["output_tokens"], got["cache_read_tokens"], got["cache_creation_tokens"]) == (
            want.input, want.output, want.read, want.write), key  # fmt: skip
        assert (got["cache_split_known"], got["cache_creation_5m_tokens"], got["cache_creation_1h_tokens"]) == (
            1, want.w5, want.w1), key  # fmt: skip
        assert got["web_search_requests"] == want.web, key
        assert got["reported_cost_usd"] == want.cost, key
        assert got["project"].startswith("/home/dev/src/app"), key

    totals = corpus.totals()
    stored = store.rows(
        """SELECT count() AS requests, sum(input_tokens) AS input, sum(output_tokens) AS output,
                  sum(cache_read_tokens) AS read, sum(cache_creation_tokens) AS write,
                  sum(cache_creation_1h_tokens) AS w1, sum(web_search_requests) AS web
           FROM request_copies FINAL WHERE source = 'transcript'"""
    )[0]
    assert {k: int(v) for k, v in stored.items()} == totals


def test_the_first_import_plans_as_the_full_plan_does(store, corpus):
    """Into a store holding no request of the agent, the import skips looking the run up in request_copies
    (plan_first.sql); with one unrelated request stored it looks everything up (plan.sql): the same rows."""
    from request_copies import insert_copies

    first = import_transcripts(store, [corpus.projects])
    rows = transcript_rows(store)
    store.command("TRUNCATE TABLE request_copies")
    store.command("TRUNCATE TABLE transcript_files")
    insert_copies(
        store,
        [["unrelated", "claude_code", "other-session", "claude-haiku-4-5", 1, "otel", 2]],
        ["request_key", "agent_product", "session_id", "model", "input_tokens", "source", "source_priority"],
    )
    full = import_transcripts(store, [corpus.projects])
    assert (full.requests, full.new_requests, full.rows_written, full.known_requests) == (
        first.requests, first.new_requests, first.rows_written, 0)  # fmt: skip
    assert transcript_rows(store) == rows


def test_import_in_small_batches_gives_the_same(store, corpus):
    # every file its own batch: copies of one request then meet only in the run's line table
    summary = import_transcripts(store, [corpus.projects], batch_bytes=1)
    assert summary.requests == summary.rows_written == len(corpus.expected)
    assert {r["request_key"] for r in transcript_rows(store)} == set(corpus.expected)


# -- ccusage ---------------------------------------------------------------------------------------


def ccusage_model(projects: Path) -> dict[str, dict]:
    """What ccusage 20.0.24 reports per session for a tree, by its rules, including the two known-wrong ones
    (A: compact-only pre-filter; B: requestless copies de-duplicated per session by message id alone)."""
    kept: dict[tuple, dict] = {}
    for path in sorted(projects.rglob("*.jsonl")):
        for raw in path.read_text().splitlines():
            if '"usage":{' not in raw:  # A
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            message = line.get("message") or {}
            usage = message.get("usage")
            if line.get("type") != "assistant" or not isinstance(usage, dict) or message.get("model") == "<synthetic>":
                continue
            if line.get("requestId"):
                key = ("id", message.get("id"), line["requestId"])
            else:
                key = ("session", line.get("sessionId"), message.get("id"))  # B
            entry = {
                "session": line.get("sessionId"), "model": message.get("model"),
                "sidechain": bool(line.get("isSidechain")), "message_id": message.get("id"),
                "input": usage.get("input_tokens", 0),
                "output": usage.get("output_tokens", 0), "read": usage.get("cache_read_input_tokens", 0),
                "write": usage.get("cache_creation_input_tokens", 0),
                "w1": (usage.get("cache_creation") or {}).get("ephemeral_1h_input_tokens", 0),
                "cost": line.get("costUSD"),
            }  # fmt: skip
            entry["total"] = entry["input"] + entry["output"] + entry["read"] + entry["write"]
            old = kept.get(key)
            if old is None or entry["total"] > old["total"]:
                kept[key] = entry
    # a sidechain copy of a main-thread message under another request id is dropped (ccusage #913)
    main_messages = {e["message_id"] for e in kept.values() if not e["sidechain"]}
    out: dict[str, dict] = {}
    for e in kept.values():
        if e["sidechain"] and e["message_id"] in main_messages:
            continue
        s = out.setdefault(e["session"], {"inputTokens": 0, "outputTokens": 0, "cacheCreationTokens": 0,
                                          "cacheReadTokens": 0, "totalCost": 0.0})  # fmt: skip
        s["inputTokens"] += e["input"]
        s["outputTokens"] += e["output"]
        s["cacheCreationTokens"] += e["write"]
        s["cacheReadTokens"] += e["read"]
        p_in, p_out, p_read, p_5m, p_1h = price_of(e["model"])
        computed = (e["input"] * p_in + e["output"] * p_out + e["read"] * p_read + (e["write"] - e["w1"]) * p_5m
                    + e["w1"] * p_1h) / 1e6  # fmt: skip
        s["totalCost"] += e["cost"] if e["cost"] is not None else computed  # --mode auto: costUSD when present
    return out


def ours_by_session(store) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in transcript_rows(store):
        s = out.setdefault(r["session_id"], {"inputTokens": 0, "outputTokens": 0, "cacheCreationTokens": 0,
                                             "cacheReadTokens": 0, "totalCost": 0.0})  # fmt: skip
        s["inputTokens"] += r["input_tokens"]
        s["outputTokens"] += r["output_tokens"]
        s["cacheCreationTokens"] += r["cache_creation_tokens"]
        s["cacheReadTokens"] += r["cache_read_tokens"]
        s["totalCost"] += r["reported_cost_usd"] if r["reported_cost_usd"] is not None else request_cost(r)
    return out


TOKENS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")


def test_ccusage_agrees_except_where_known_wrong(store, corpus, tmp_path):
    corpus.complete_last_line()  # ccusage skips an incomplete line too; keep the comparison about the rules
    import_transcripts(store, [corpus.projects])
    ours = ours_by_session(store)
    live = {s["sessionId"]: s for s in ccusage_sessions(corpus.root, tmp_path / "home")["sessions"]}
    model = ccusage_model(corpus.projects)

    # 1. ccusage does what its rules (A, B) say, exactly
    assert set(live) == set(model)
    for session, want in model.items():
        for key in TOKENS:
            assert live[session][key] == want[key], (session, key)
        assert live[session]["totalCost"] == pytest.approx(want["totalCost"], abs=1e-9), session

    # 2. where it differs from us, only A or B is the cause
    differ = {s for s in ours if any(ours[s][k] != live.get(s, {}).get(k) for k in TOKENS)}
    pretty = {corpus.expected[k].session for k in corpus.pretty_keys}  # A
    gateway = {x.session for k, x in corpus.expected.items() if k.startswith("msg:msg_gateway_constant")}  # B1
    resumed = corpus.requestless_resumes  # B2: sessions whose file re-logs requestless responses of another one
    assert pretty and gateway and resumed
    unexplained = differ - pretty - gateway - resumed
    assert differ == pretty | gateway | resumed, {s: (ours[s], live.get(s)) for s in unexplained}

    # A: the pretty-printed request is exactly what ccusage lacks in its session
    (key,) = corpus.pretty_keys
    want = corpus.expected[key]
    session = want.session
    assert ours[session]["inputTokens"] - live[session]["inputTokens"] == want.input
    assert ours[session]["cacheReadTokens"] - live[session]["cacheReadTokens"] == want.read

    # B: the totals over the gateway and resumed sessions: ccusage is off both ways, we are not
    grand = {k: sum(s[k] for s in ours.values()) for k in TOKENS}
    assert grand["inputTokens"] == sum(x.input for x in corpus.expected.values())
    assert grand != {k: sum(s[k] for s in live.values()) for k in TOKENS}

    # 3. everywhere else: the same tokens and cost
    for session in set(ours) - differ:
        for key in TOKENS:
            assert ours[session][key] == live[session][key], (session, key)
        assert ours[session]["totalCost"] == pytest.approx(live[session]["totalCost"], abs=1e-9), session

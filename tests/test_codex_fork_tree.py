"""A Codex rollout tree with forks, a fork of a fork, a resume, an archived copy and an older-format fork:
every response is counted once, in its own thread, with its own model (ccusage counted forks 3-4x:
ccusage #897, #1175, #1349)."""

import json
import shutil
from pathlib import Path

import pytest

import codex_rollouts as tree
from cctelemetry.ingest.transcripts import import_transcripts

COMMITTED = Path(__file__).parent / "data" / "codex-fork-tree"
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "reasoning_tokens")


def by_session(store) -> dict:
    rows = store.rows(
        "SELECT session_id, count() AS requests, sum(input_tokens) AS input_tokens,"
        " sum(output_tokens) AS output_tokens,"
        " sum(cache_read_tokens) AS cache_read_tokens, sum(cache_creation_tokens) AS cache_creation_tokens,"
        " sum(reasoning_tokens) AS reasoning_tokens FROM request_copies FINAL WHERE superseded = 0 GROUP BY session_id"
    )
    return {r["session_id"]: r for r in rows}


def test_the_committed_tree_is_the_generated_one(tmp_path):
    tree.write_tree(tmp_path)
    made = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*.jsonl")}
    kept = {p.relative_to(COMMITTED): p.read_bytes() for p in COMMITTED.rglob("*.jsonl")}
    assert made == kept


def test_the_tree_really_replays_parents(tmp_path):
    # Summing every token_count's last usage, as ccusage did, counts the replayed history again.
    naive = 0
    for path in COMMITTED.rglob("*.jsonl"):
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            if entry["type"] == "event_msg" and entry["payload"]["type"] == "token_count":
                naive += entry["payload"]["info"]["last_token_usage"]["output_tokens"]
    assert naive > 2 * tree.EXPECTED_TOTAL["output_tokens"]


def test_each_response_once_in_its_own_thread(store, tmp_path, monkeypatch):
    shutil.copytree(COMMITTED, tmp_path / "codex")
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))  # default folders: sessions/ and archived_sessions/
    summary = import_transcripts(store, agent="codex")
    assert summary.files == 6 and not summary.skipped_files
    got = by_session(store)
    assert {s: r["requests"] for s, r in got.items()} == tree.EXPECTED_REQUESTS
    for session, expected in tree.EXPECTED_BY_SESSION.items():
        assert {k: got[session][k] for k in TOKENS} == expected, session
    models = store.rows("SELECT session_id, model, count() AS n FROM request_copies FINAL WHERE superseded = 0 "
                        "GROUP BY session_id, model")  # fmt: skip
    assert {(r["session_id"], r["model"]): r["n"] for r in models} == tree.EXPECTED_MODELS
    total = {k: sum(r[k] for r in got.values()) for k in TOKENS}
    assert total == tree.EXPECTED_TOTAL


def test_a_resumed_thread_adds_only_its_new_responses(store, tmp_path):
    root = tmp_path / "codex"
    shutil.copytree(COMMITTED, root)
    (a_file,) = root.glob(f"sessions/*/*/*/rollout-*-{tree.A}.jsonl")
    (archived,) = root.glob("archived_sessions/*.jsonl")
    full = a_file.read_text()
    a_file.write_text(archived.read_text())  # before the resume
    first = import_transcripts(store, [root])
    assert by_session(store)[tree.A]["requests"] == 3
    a_file.write_text(full)  # the resumed session appended its fourth response
    second = import_transcripts(store, [root])
    assert (second.new_requests, second.rows_written) == (1, 1)
    assert by_session(store)[tree.A]["requests"] == 4
    assert first.requests == sum(tree.EXPECTED_REQUESTS.values()) - 1
    third = import_transcripts(store, [root])
    assert third.rows_written == 0 and third.files_unchanged == 6


@pytest.mark.parametrize("n", [1, 2, 3, 4, 11, 12, 21, 31, 32, 41])
def test_four_measures_add_up_to_codexs_total(n):
    u, d = tree.usage(n), tree._disjoint(n)
    assert (
        d["input_tokens"] + d["output_tokens"] + d["cache_read_tokens"] + d["cache_creation_tokens"]
        == u["total_tokens"]
    )

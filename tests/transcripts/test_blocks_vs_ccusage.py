"""5-hour blocks equal ccusage 20.0.24's ``blocks --json --offline``.

- The real Claude Code 2.1.197 transcripts (tests/data/claude-config-projects): against a snapshot of
  ccusage's output (always) and against ccusage itself when npm can install it (which also checks the snapshot).
- A generated corpus (blocks_corpus.py) of two people, imported as transcripts and received as their telemetry
  (``user.email``): per person, our blocks for ``user=<email>`` against ccusage run on that person's folder
  (ccusage has no notion of people). Same block starts and ends, actual ends, gaps, request counts, tokens by
  type, models, active block, burn rate and projection; cost in mode ``calculate`` where both price the models
  the same. The two differences the corpus holds on purpose are each checked to be exactly what explains them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from blocks_corpus import ALICE, BOB, BlocksCorpus, book_long_context_cost, ccusage_tiered_cost
from cctelemetry.config import Settings
from cctelemetry.ingest.transcripts import import_transcripts
from cctelemetry.reports.catalog import Reports
from transcripts_support import ccusage_bin, copy_tree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from claude_events import post  # noqa: E402

SNAPSHOT = Path(__file__).parent / "data" / "ccusage-20.0.24-claude-blocks.json"
TOKENS = {"inputTokens": "input_tokens", "outputTokens": "output_tokens",
          "cacheCreationInputTokens": "cache_creation_tokens", "cacheReadInputTokens": "cache_read_tokens"}  # fmt: skip


def ccusage_blocks(config_dir: Path, home: Path) -> list[dict]:
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config_dir), "HOME": str(home), "NO_COLOR": "1",
           "XDG_CACHE_HOME": str(home / ".cache"), "TZ": "UTC"}  # fmt: skip
    env.pop("XDG_CONFIG_HOME", None)
    out = subprocess.run([str(ccusage_bin()), "blocks", "--json", "--offline"], env=env, capture_output=True,
                         text=True, timeout=300, check=True).stdout  # fmt: skip
    return json.loads(out)["blocks"]


def assert_same_blocks(ours: list[dict], theirs: list[dict], cost: bool = True, explained=None) -> None:
    """Block by block: the same starts, ends, gaps, counts, tokens, models and (where both price alike) cost.
    ``explained(ours_block, their_block)`` returns the (requests, cost) difference a block is known to have."""
    assert [b["start"] for b in ours] == [b["startTime"] for b in theirs]
    for mine, their in zip(ours, theirs, strict=True):  # equal lengths: asserted just above
        where = mine["start"]
        assert mine["id"] == their["id"], where
        assert (mine["end"], mine["actual_end"]) == (their["endTime"], their["actualEndTime"]), where
        assert (mine["is_gap"], mine["is_active"]) == (their["isGap"], their["isActive"]), where
        extra_requests, extra_cost = explained(mine, their) if explained else (0, 0.0)
        assert mine["requests"] + extra_requests == their["entries"], where
        for theirs_key, ours_key in TOKENS.items():
            assert mine[ours_key] == their["tokenCounts"][theirs_key], (where, ours_key)
        assert mine["total_tokens"] == their["totalTokens"], where
        assert mine["models"] == their["models"], where
        if cost:
            assert mine["cost_usd"] - extra_cost == pytest.approx(their["costUSD"], abs=1e-9), where
        if their["isActive"]:
            # ccusage gives a burn rate and a projection for the active block only (we give every block a
            # burn rate); the projection depends on the moment each program ran, a few seconds apart
            rate = their["burnRate"]
            assert mine["burn_rate"]["tokens_per_minute"] == pytest.approx(rate["tokensPerMinute"], rel=1e-9)
            assert mine["burn_rate"]["non_cache_tokens_per_minute"] == pytest.approx(
                rate["tokensPerMinuteForIndicator"], rel=1e-9)  # fmt: skip
            assert mine["burn_rate"]["cost_usd_per_hour"] == pytest.approx(rate["costPerHour"], rel=1e-9)
            proj = their["projection"]
            assert abs(mine["projection"]["remaining_minutes"] - proj["remainingMinutes"]) <= 1
            per_minute = rate["tokensPerMinute"]
            assert abs(mine["projection"]["total_tokens"] - proj["totalTokens"]) <= per_minute + 1
            assert mine["projection"]["cost_usd"] == pytest.approx(
                proj["totalCost"], abs=0.005 + rate["costPerHour"] / 60
            )


# -- the fixture transcripts -------------------------------------------------------------------------------


@pytest.fixture
def fixture_reports(store, settings, tmp_path):
    import_transcripts(store, [copy_tree(tmp_path / "claude")])
    return Reports(store, settings)


def test_fixture_blocks_equal_the_ccusage_snapshot(fixture_reports):
    ours = fixture_reports.blocks(mode="calculate")["blocks"]
    assert len(ours) == 1 and ours[0]["requests"] == 21
    assert_same_blocks(ours, json.loads(SNAPSHOT.read_text())["blocks"])


def test_fixture_blocks_equal_ccusage_live(fixture_reports, tmp_path):
    config = tmp_path / "ccusage-config"
    copy_tree(config)
    live = ccusage_blocks(config, tmp_path / "home")
    assert_same_blocks(fixture_reports.blocks(mode="calculate")["blocks"], live)
    assert live == json.loads(SNAPSHOT.read_text())["blocks"]  # the snapshot is what this ccusage prints


# -- two people, generated ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    now = datetime.now(UTC)
    corpus = BlocksCorpus(tmp_path_factory.mktemp("blocks-corpus"), now).build()
    corpus.write_transcripts()
    return corpus


@pytest.fixture(scope="module")
def two_people(corpus, engine_url):
    """One store with both people's transcripts imported and their telemetry received (merged per request)."""
    from conftest import api_client, make_state, new_database, open_store

    database = new_database()
    store = open_store(engine_url, database)
    settings = Settings(database=database, tz="UTC", write_flush_ms=5)
    for user in (ALICE, BOB):
        import_transcripts(store, [corpus.folder(user) / "projects"])
    with api_client(make_state(store, settings)) as client:
        post(client, corpus.events())
        yield client, Reports(store, settings)
    store.command(f"DROP DATABASE IF EXISTS `{database}`")


def test_every_request_is_one_merged_row_with_its_person(two_people, corpus):
    _, reports = two_people
    by_user = {r["user"]: r for r in reports.usage(group_by="user,source")["rows"]}
    assert set(by_user) == {ALICE, BOB}
    for user in (ALICE, BOB):
        assert by_user[user]["source"] == "otel+transcript"
        assert by_user[user]["requests"] == sum(1 for r in corpus.requests if r.user == user)


@pytest.mark.parametrize("user", [ALICE, BOB])
def test_generated_blocks_equal_ccusage_per_person(two_people, corpus, user, tmp_path):
    client, _ = two_people
    theirs = ccusage_blocks(corpus.folder(user), tmp_path / "home")
    ours = client.get("/api/v1/blocks", params={"user": user, "mode": "calculate"}).json()["blocks"]
    assert all(b["user"] == user for b in ours)
    assert_same_blocks(ours, theirs, explained=lambda mine, their: _explained(corpus, user, mine))


def _explained(corpus: BlocksCorpus, user: str, block: dict) -> tuple[int, float]:
    """The known differences in a block: ccusage counts a <synthetic> error line as an entry (no tokens) where
    the importer skips it; ccusage prices a long-context claude-sonnet-4 request per token type above
    200,000 tokens, the price book the whole request at the long-context rates."""
    start, end = _t(block["start"]), _t(block["end"])
    synthetic = sum(1 for u, at in corpus.synthetic if u == user and start <= at <= end and not block["is_gap"])
    extra = sum(book_long_context_cost(r) - ccusage_tiered_cost(r) for r in corpus.long_context
                if r.user == user and start <= r.at <= end and not block["is_gap"])  # fmt: skip
    return synthetic, extra


def test_the_corpus_holds_what_it_is_for(two_people, corpus):
    client, _ = two_people
    alice = client.get("/api/v1/blocks", params={"user": ALICE, "mode": "calculate"}).json()["blocks"]
    bob = client.get("/api/v1/blocks", params={"user": BOB, "mode": "calculate"}).json()["blocks"]
    both = client.get("/api/v1/blocks", params={"mode": "calculate"}).json()
    # no block mixes the two, and the report of both is the two reports interleaved by start
    assert sorted((b["start"], b["user"]) for b in both["blocks"]) == sorted(
        [(b["start"], ALICE) for b in alice] + [(b["start"], BOB) for b in bob])  # fmt: skip
    assert both["totals"]["requests"] == len(corpus.requests)
    # gaps, an active block (Alice's), the boundary request on the hour, the long-context difference
    assert any(b["is_gap"] for b in alice) and any(b["is_gap"] for b in bob)
    assert [b["is_active"] for b in alice].count(True) == 1 and not any(b["is_active"] for b in bob)
    day = corpus.requests[0].at.replace(hour=0, minute=0, second=0, microsecond=0)
    first, second = alice[0], alice[1]
    assert first["start"] == _iso(day.replace(hour=8)) and first["actual_end"] == _iso(day.replace(hour=13))
    assert second["start"] == _iso(day.replace(hour=13))
    assert corpus.synthetic and corpus.long_context
    assert book_long_context_cost(corpus.long_context[0]) > ccusage_tiered_cost(corpus.long_context[0])


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")

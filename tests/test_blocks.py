"""5-hour blocks (reports/blocks.py) on requests received as telemetry, at a fixed "now": the block rules at
their edges, the active block's burn rate, projection and time left, token limits, --active / --recent,
windows (a block is chosen by its start, and where it starts does not depend on the window), filters, CSV,
the CLI. (Against ccusage itself: tests/transcripts/test_blocks_vs_ccusage.py.)"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cctelemetry.reports.catalog import Reports
from cctelemetry.reports.scope import Pricing
from claude_events import Request, post
from conftest import live_service

NOW = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)
T = datetime(2026, 11, 28, tzinfo=UTC)
CLI = str(Path(sys.executable).with_name("cctelemetry"))


def req(at, user="a@x", cost=0.10, tokens=(100, 50, 1000, 200), session="s", attrs=None, model="claude-sonnet-4-5"):
    req.n += 1
    return Request(at, session, f"req_blk_{req.n}", model, *tokens, cost_usd=cost, user_email=user,
                   attributes=attrs or {})  # fmt: skip


req.n = 0


@pytest.fixture
def reports(client, store, settings):
    h, m = timedelta(hours=1), timedelta(minutes=1)
    post(
        client,
        [
            # a@x: 08:10 .. 13:00 exactly (on the hour ending the 08:00 block), 13:00:00.001 (next block, 13:00)
            req(T + 8 * h + 10 * m),
            req(T + 11 * h),
            req(T + 13 * h),
            req(T + 13 * h + timedelta(milliseconds=1)),
            # a pause of more than 5 hours, then one request: a gap block, then a block of one instant
            req(T + 20 * h),
            req(T + 20 * h + 7 * m, model="claude-haiku-4-5"),
            # now: 11:20, 11:50, 12:20 (an active block from 11:00 to 16:00: 210 minutes to go)
            req(NOW - 70 * m, tokens=(1000, 500, 10000, 0), cost=0.6),
            req(NOW - 40 * m, tokens=(1000, 500, 10000, 0), cost=0.6),
            req(NOW - 10 * m, tokens=(1000, 500, 10000, 0), cost=0.6),
            # b@x, at the same hours, on team=blue: never in a@x's blocks
            req(T + 9 * h, user="b@x", cost=5.0, attrs={}),
            req(NOW - 30 * m, user="b@x", cost=1.0),
        ],
        resource={"team": "red"},
    )
    post(client, [req(T + 9 * h + 30 * m, user="b@x", cost=2.0, session="blue")], resource={"team": "blue"})
    return Reports(store, settings)


def starts(body) -> list[tuple[str, bool]]:
    return [(b["start"], b["is_gap"]) for b in body["blocks"]]


def test_the_rules_at_their_edges(reports):
    body = reports.blocks(filters={"user": "a@x"}, now=NOW)
    assert starts(body) == [
        ("2026-11-28T08:00:00.000Z", False),  # 08:10, 11:00 and 13:00:00.000: not more than 5 h after 08:00
        ("2026-11-28T13:00:00.000Z", False),  # 13:00:00.001: more than 5 h after 08:00
        ("2026-11-28T18:00:00.001Z", True),  # the pause: from the last request + 5 h to the next request
        ("2026-11-28T20:00:00.000Z", False),
        ("2026-11-29T01:07:00.000Z", True),
        ("2026-11-30T11:00:00.000Z", False),
    ]
    first, second, gap, third = body["blocks"][:4]
    assert first["requests"] == 3 and first["actual_end"] == "2026-11-28T13:00:00.000Z"
    assert first["end"] == "2026-11-28T13:00:00.000Z" and first["first_request_at"] == "2026-11-28T08:10:00.000Z"
    assert second["requests"] == 1 and second["burn_rate"] is None  # one instant: no rate
    assert gap["end"] == "2026-11-28T20:00:00.000Z" and gap["requests"] == 0 and gap["cost_usd"] == 0.0
    assert third["models"] == ["claude-sonnet-4-5", "claude-haiku-4-5"]
    assert body["totals"]["blocks"] == 4 and body["totals"]["gaps"] == 2 and body["totals"]["requests"] == 9
    assert body["totals"]["cost_usd"] == pytest.approx(0.6 + 0.1 * 6 + 1.2)


def test_the_active_block(reports):
    active = reports.blocks(filters={"user": "a@x"}, active=True, now=NOW)["blocks"]
    assert len(active) == 1
    block = active[0]
    assert block["is_active"] and block["start"] == "2026-11-30T11:00:00.000Z" and block["minutes_remaining"] == 210
    # 34,500 tokens and $1.80 between 11:20 and 12:20: 575 tokens/min, $1.80/h
    assert block["total_tokens"] == 34_500 and block["cost_usd"] == pytest.approx(1.8)
    assert block["burn_rate"]["tokens_per_minute"] == pytest.approx(575)
    assert block["burn_rate"]["non_cache_tokens_per_minute"] == pytest.approx(75)
    assert block["burn_rate"]["cost_usd_per_hour"] == pytest.approx(1.8)
    assert block["projection"] == {"total_tokens": 34_500 + 575 * 210, "cost_usd": pytest.approx(1.8 + 1.8 * 210 / 60),
                                   "remaining_minutes": 210}  # fmt: skip
    later = reports.blocks(filters={"user": "a@x"}, active=True, now=NOW + timedelta(minutes=211))
    assert later["blocks"] == []  # its end passed


def test_token_limits(reports):
    body = reports.blocks(filters={"user": "a@x"}, token_limit="40000", now=NOW)
    active = body["blocks"][-1]
    assert active["token_limit_status"] == {"limit": 40_000, "projected_usage": 155_250,
                                            "percent_used": pytest.approx(388.125), "status": "exceeds"}  # fmt: skip
    assert active["percent_of_token_limit"] == pytest.approx(34_500 / 40_000 * 100)
    # max: the most tokens of a completed block listed (the 08:00 one: 3 x 1,350)
    body = reports.blocks(filters={"user": "a@x"}, token_limit="max", now=NOW)
    assert body["blocks"][-1]["token_limit_status"]["limit"] == 4_050
    # as ccusage: with --active no completed block is listed, so max gives no limit
    assert reports.blocks(filters={"user": "a@x"}, active=True, token_limit="max", now=NOW)["blocks"][0][
        "token_limit_status"] is None  # fmt: skip
    warning = reports.blocks(filters={"user": "a@x"}, token_limit=160_000, now=NOW)["blocks"][-1]
    assert warning["token_limit_status"]["status"] == "warning"  # 155,250 > 80 % of 160,000
    ok = reports.blocks(filters={"user": "a@x"}, token_limit=200_000, now=NOW)["blocks"][-1]
    assert ok["token_limit_status"]["status"] == "ok"


def test_recent_and_windows_choose_blocks_by_start(reports):
    recent = reports.blocks(filters={"user": "a@x"}, recent=True, now=NOW + timedelta(days=1))  # from 11-28 12:30
    assert [b["start"] for b in recent["blocks"]][:2] == ["2026-11-28T13:00:00.000Z", "2026-11-28T18:00:00.001Z"]
    window = reports.blocks(filters={"user": "a@x"}, since="2026-11-28T10:00", until="2026-11-28T20:00", now=NOW)
    assert starts(window) == [("2026-11-28T13:00:00.000Z", False), ("2026-11-28T18:00:00.001Z", True)]


def test_where_a_block_starts_does_not_depend_on_the_window(client, store, settings):
    # requests every 50 minutes for 3 days, never a 5-hour pause: each block's start depends on the first one
    start = datetime(2026, 10, 1, 7, 13, tzinfo=UTC)
    post(client, [req(start + i * timedelta(minutes=50), user="c@x", cost=0.01) for i in range(int(72 * 60 / 50))])
    reports = Reports(store, settings)
    every = reports.blocks(filters={"user": "c@x"}, now=NOW)["blocks"]
    assert [b["start"][11:16] for b in every[:3]] == ["07:00", "12:00", "17:00"]  # 12:03, 17:03 ...
    for since in ("2026-10-02T09:30", "2026-10-03T00:00"):
        part = reports.blocks(filters={"user": "c@x"}, since=since, now=NOW)["blocks"]
        assert part and part == [b for b in every if _t(b["start"]) >= _t(since + "Z")]


def test_people_never_mix_and_filters_narrow(reports, client):
    both = client.get("/api/v1/blocks", params={"since": "2026-11-28", "until": "2026-11-29"}).json()["blocks"]
    b_blocks = [b for b in both if b["user"] == "b@x"]
    assert [(b["start"], b["requests"], b["cost_usd"]) for b in b_blocks] == [("2026-11-28T09:00:00.000Z", 2, 7.0)]
    assert all(b["user"] == "a@x" for b in both if b["start"] == "2026-11-28T08:00:00.000Z")
    blue = client.get("/api/v1/blocks", params={"attr.team": "blue"}).json()
    assert [(b["user"], b["requests"]) for b in blue["blocks"]] == [("b@x", 1)]
    csv_text = client.get("/api/v1/blocks", params={"user": "a@x", "format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(rows) == 6 and rows[0]["start"] == "2026-11-28T08:00:00.000Z" and rows[2]["is_gap"] == "True"
    bad = client.get("/api/v1/blocks", params={"token_limit": "lots"})
    assert bad.status_code == 400 and "token_limit" in bad.json()["error"]


def test_cli_blocks(reports, service_state):
    with live_service(service_state) as url:
        out = subprocess.run([CLI, "blocks", "--api-url", url, "--user", "a@x", "--json"], capture_output=True,
                             text=True, timeout=60)  # fmt: skip
        assert out.returncode == 0 and out.stderr == ""
        assert [b["start"] for b in json.loads(out.stdout)["blocks"]][0] == "2026-11-28T08:00:00.000Z"
        out = subprocess.run([CLI, "blocks", "--api-url", url, "--token-limit", "max"], capture_output=True, text=True,
                             timeout=60, env={"COLUMNS": "160", "PATH": "/usr/bin:/bin"})  # fmt: skip
        assert out.returncode == 0 and out.stderr == "", out.stderr
        assert "a@x" in out.stdout and "b@x" in out.stdout and "gap" in out.stdout


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_blocks_from_the_rollup_equal_blocks_read_request_by_request(client, store, settings, seed):
    """Many requests exactly on the hour, in the same rollup rows as later ones: wherever such an hour closes a
    block it is split (and the blocks after it move), so the blocks equal those of the raw requests."""
    import random

    from cctelemetry.reports import blocks as block_reports
    from cctelemetry.reports.source import Plan

    rng = random.Random(seed)
    start, user = datetime(2026, 9, 1, 6, tzinfo=UTC), f"split{seed}@x"
    at, out = start, []
    for i in range(300):
        at += (
            timedelta(hours=rng.choice([0, 1, 1, 2, 7]))
            if rng.random() < 0.5
            else timedelta(minutes=rng.randint(1, 50))
        )
        on_hour = at.replace(minute=0, second=0, microsecond=0)
        session = f"split-{seed}-{i // 20}"
        out.append(req(on_hour, user=user, session=session, cost=0.01))  # exactly on the hour
        out.append(req(on_hour + timedelta(minutes=rng.randint(0, 59), milliseconds=rng.randint(1, 999)), user=user,
                       session=session, cost=0.02))  # fmt: skip
    post(client, out)
    reports = Reports(store, settings)
    got = reports.blocks(filters={"user": user}, now=NOW)
    flt = reports._filter(None, None, None, {"user": user})
    pricing = Pricing.from_settings(settings, None)
    raw = block_reports._buckets(store, flt, pricing, Plan(None, ((flt.since, flt.until),)))
    expected = block_reports.walk(raw, block_reports.BLOCK_HOURS)
    assert [(b["start"], b["requests"]) for b in got["blocks"]] == [
        (block_reports.iso_ms(b.start), b.counts["requests"] if isinstance(b, block_reports.Block) else 0)
        for b in expected
    ]
    assert got["totals"]["requests"] == 600


def test_hundreds_of_hours_read_again_are_one_small_query(store, settings):
    """Blocks may re-read hundreds of single hours request by request: that is one read of the requests with a
    condition per hour, not the rollup's SQL repeated per hour (which went past the engine's max_query_size)."""
    from cctelemetry.reports import blocks as block_reports
    from cctelemetry.reports.source import Plan, priced_sums

    reports = Reports(store, settings)
    flt = reports._filter(None, None, None, None)
    hours = tuple((T + timedelta(hours=i), T + timedelta(hours=i + 1)) for i in range(500))
    sql, _ = priced_sums(flt, ["model"], plan_=Plan(None, hours))
    assert len(sql) < 120_000
    assert block_reports._buckets(store, flt, Pricing.from_settings(settings, None), Plan(None, hours)) == []

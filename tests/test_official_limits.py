"""Official rate limits (reports/limits.py) on constructed data with known answers: the latest figure per
window with its age, the calibration (cost and tokens per 1 %, per model), the estimate of now and the
forecast of 100 %; another person's snapshots and requests change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cctelemetry.ingest.rate_limits import write
from cctelemetry.reports.catalog import Reports
from claude_events import Request, post

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ALICE, BOB = "alice@example.com", "bob@example.com"
SONNET, OPUS = "claude-sonnet-4-5", "claude-opus-4-6"


def snapshot(at, window, used, resets, session, model=SONNET):
    return {"observed_at": at, "window": window, "used_percentage": used, "resets_at": resets, "session_id": session,
            "model": model, "model_display_name": "", "agent_version": "2.1.197", "session_cost_usd": None,
            "session_input_tokens": None, "session_output_tokens": None, "fast_mode": 0, "project_dir": "/w",
            "source": "statusline"}  # fmt: skip


def spend(at, session, cost, model=SONNET, user=ALICE, tokens=(1000, 200, 5000, 300)):
    spend.n += 1
    return Request(at, session, f"req_lim_{spend.n}", model, *tokens, cost_usd=cost, user_email=user)


spend.n = 0


@pytest.fixture
def limits_data(client, store, settings):
    h = timedelta(hours=1)
    # window 1 (5 h, resets 03:00): 10 % -> 30 % between 23:00 and 01:00, while Alice spent $4.00 on Sonnet
    r1 = NOW - 9 * h
    w1 = [spend(r1 - 4 * h - 10 * 60 * timedelta(seconds=1), "a1", 9.99)]  # before the first snapshot: not counted
    w1 += [spend(r1 - 4 * h + i * timedelta(minutes=20), "a1", 1.00) for i in range(1, 5)]
    w1 += [spend(r1 - 2 * h + timedelta(minutes=5), "a1", 7.77)]  # after the last snapshot: not counted
    # window 2 (resets 07:00): 5 % -> 15 % while she spent $3.00 on Opus
    r2 = NOW - 5 * h
    w2 = [spend(r2 - 4 * h + i * timedelta(minutes=10), "a2", 1.50, OPUS) for i in range(1, 3)]
    # the window in force (resets 14:00, began 09:00): $1.20 since it began, $0.30 of it since the last snapshot
    r3 = NOW + 2 * h
    w3 = [spend(NOW - 150 * timedelta(minutes=1), "a3", 0.90), spend(NOW - 10 * timedelta(minutes=1), "a3", 0.30)]
    # Bob, at the same times, on his own account: never part of Alice's figures
    bob = [spend(r1 - 3 * h + timedelta(minutes=1), "b1", 50.0, user=BOB), spend(NOW - h, "b1", 50.0, user=BOB)]
    post(client, w1 + w2 + w3 + bob)
    write(store, [
        snapshot(r1 - 4 * h, "five_hour", 10.0, r1, "a1"), snapshot(r1 - 3 * h, "five_hour", 18.0, r1, "a1"),
        snapshot(r1 - 2 * h, "five_hour", 30.0, r1, "a1"),
        snapshot(r2 - 4 * h, "five_hour", 5.0, r2, "a2", OPUS), snapshot(r2 - 3 * h, "five_hour", 15.0, r2, "a2", OPUS),
        snapshot(NOW - 60 * timedelta(minutes=1), "five_hour", 40.0, r3, "a3"),
        snapshot(NOW - 30 * timedelta(minutes=1), "five_hour", 50.0, r3, "a3"),
        snapshot(NOW - 30 * timedelta(minutes=1), "seven_day", 61.5, NOW + 50 * h, "a3"),
        snapshot(r1 - 3 * h, "five_hour", 90.0, r1, "b1"), snapshot(r1 - 2 * h, "five_hour", 99.0, r1, "b1"),
        snapshot(NOW - h, "five_hour", 1.0, r3, "b1"),
    ])  # fmt: skip
    return Reports(store, settings)


def test_calibration_has_the_known_answer(limits_data):
    body = limits_data.limits(filters={"user": ALICE}, now=NOW)
    cal = body["calibration"]["five_hour"]
    assert cal["source"] == "estimated" and cal["windows"] == 2
    # ($4.00 + $3.00) / (20 % + 10 %)
    assert cal["cost_usd_per_percent"] == pytest.approx(7.0 / 30, abs=1e-12)
    assert cal["tokens_per_percent"] == pytest.approx(6 * 6500 / 30)
    assert cal["model_mix"] == pytest.approx({SONNET: 4 / 7, OPUS: 3 / 7})
    # each window made by one model: that model's own figure
    assert cal["by_model"][SONNET]["cost_usd_per_percent"] == pytest.approx(0.2)
    assert cal["by_model"][OPUS]["cost_usd_per_percent"] == pytest.approx(0.3)
    assert cal["stale"] is False
    # the window in force rose only within one window: no calibration of seven_day from one snapshot
    assert body["calibration"]["seven_day"] is None


def test_latest_window_estimate_and_forecast(limits_data):
    body = limits_data.limits(filters={"user": ALICE}, now=NOW)
    five = body["windows"]["five_hour"]
    assert five["source"] == "official" and five["used_percentage"] == 50.0
    assert five["observed_at"] == "2026-11-30T11:30:00.000Z" and five["age_seconds"] == 1800
    assert five["stale"] is True and five["expired"] is False  # 30 minutes > the 10-minute default
    cpp = 7.0 / 30
    estimate = five["estimate"]
    assert estimate["source"] == "estimated" and estimate["cost_usd_since_observed"] == pytest.approx(0.30)
    assert estimate["used_percentage"] == pytest.approx(50 + 0.30 / cpp)
    forecast = five["forecast"]
    # $1.20 over the 3 hours since the window began (09:00): $0.40/h, i.e. 0.40 / cpp % per hour
    assert forecast["cost_usd_per_hour"] == pytest.approx(0.40)
    assert forecast["percent_per_hour"] == pytest.approx(0.40 / cpp)
    hours = (100 - estimate["used_percentage"]) / (0.40 / cpp)
    assert forecast["hours_to_100"] == pytest.approx(hours)
    assert forecast["before_reset"] is (hours < 2)
    seven = body["windows"]["seven_day"]
    assert seven["used_percentage"] == 61.5 and seven["source"] == "official"
    assert seven["forecast"] is None or seven["forecast"]["method"] in ("calibration", "official_trend")


def test_history_is_the_persons_snapshots_newest_first(limits_data):
    body = limits_data.limits(filters={"user": ALICE}, now=NOW)
    history = body["history"]
    assert len(history) == 8 and all(h["user"] == ALICE and h["source"] == "official" for h in history)
    assert [h["observed_at"] for h in history] == sorted((h["observed_at"] for h in history), reverse=True)
    # without a user: the person of the newest snapshot (Bob's at 11:00 is older than Alice's at 11:30)
    assert limits_data.limits(now=NOW)["user"] == ALICE
    bob = limits_data.limits(filters={"user": BOB}, now=NOW)
    assert bob["calibration"]["five_hour"]["cost_usd_per_percent"] == pytest.approx(50.0 / 9)


def test_an_expired_window_is_marked_and_not_forecast(limits_data):
    later = NOW + timedelta(hours=3)  # past the 14:00 reset
    five = limits_data.limits(filters={"user": ALICE}, now=later)["windows"]["five_hour"]
    assert five["expired"] is True and five["stale"] is True and five["forecast"] is None


def test_limits_endpoint_and_filters(client, limits_data):
    body = client.get("/api/v1/limits", params={"user": ALICE, "since": "2026-11-01"}).json()
    assert set(body["windows"]) >= {"five_hour", "seven_day"} and body["user"] == ALICE
    r = client.get("/api/v1/limits", params={"model": SONNET})
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    empty = client.get("/api/v1/limits", params={"user": "nobody@example.com"}).json()
    assert empty["windows"] == {"five_hour": None, "seven_day": None} and empty["history"] == []

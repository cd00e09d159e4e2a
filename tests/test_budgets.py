"""Budgets and alerts: a replay of the captured runs (moved to today) crosses budgets; each threshold fires exactly
one alert per period, delivered once to a webhook listening on 127.0.0.1; failed deliveries are retried with
backoff and never hold up ingest; definitions are checked; periods (day, week, month, 5-hour block) are right."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from cctelemetry.config import Settings
from cctelemetry.reports.budgets.periods import BLOCK, calendar_window, last_block_start
from conftest import api_client, fixture_bodies, make_state
from support.retime import retimed
from support.webhook_listener import WebhookListener

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
LAST_REQUEST = TODAY + timedelta(hours=12, minutes=20)  # the replay's last moment
NOW = TODAY + timedelta(hours=12, minutes=40)  # the budgets' clock
TOTAL_USD = 1.2025778  # every captured run (tests/data/claude-code-2.1.197/README.md)


@pytest.fixture(scope="module")
def replay_bodies():
    return retimed([(signal, body, ctype) for _, signal, body, ctype in fixture_bodies()], LAST_REQUEST)


@pytest.fixture
def budget_service(store, database):
    """The API over a fresh database, with the budget evaluator running on a fixed clock (12:40 UTC today)."""
    state = make_state(store, Settings(database=database, tz="UTC", write_flush_ms=5))
    evaluator = state.start_budgets(clock=lambda: NOW)
    evaluator.sender.first_backoff_s = 0.05
    try:
        with api_client(state) as client:
            yield client, state
    finally:
        evaluator.stop()


def replay(client, bodies) -> None:
    for signal, body, ctype in bodies:
        assert client.post(f"/v1/{signal}", content=body, headers={"Content-Type": ctype}).status_code == 200


def wait_until(predicate, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def alerts(client, **params) -> list[dict]:
    r = client.get("/api/v1/alerts", params=params)
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def put(client, *budgets) -> dict:
    r = client.put("/api/v1/budgets", json={"budgets": list(budgets)})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_replay_fires_each_threshold_once_and_delivers_it(budget_service, replay_bodies):
    client, state = budget_service
    with WebhookListener() as hook:
        put(client,
            {"name": "all-daily", "period": "day", "amount_usd": 1.0, "webhook": hook.url,
             "projected_overrun": False},  # (a check mid-replay may see the projection cross first)
            {"name": "platform-weekly", "period": "week", "amount_tokens": 500_000, "thresholds": [50, 100],
             "filters": {"attr.team": "platform"}, "projected_overrun": False},
            {"name": "untouched", "period": "month", "amount_usd": 100})  # fmt: skip
        replay(client, replay_bodies)  # the evaluator checks as the flushes come in
        fired = wait_until(lambda: len(alerts(client)) >= 4 and alerts(client))
        deliveries = hook.wait_for(3)
        # whatever the evaluator saw on the way, one alert per threshold; more checks add none
        assert state.budget_evaluator.check() == [] and state.budget_evaluator.check() == []
        fired = alerts(client)

        daily = sorted((a for a in fired if a["budget"] == "all-daily"), key=lambda a: a["threshold"])
        assert [(a["kind"], a["threshold"]) for a in daily] == [
            ("threshold", 50),
            ("threshold", 80),
            ("threshold", 100),
        ]
        for a in daily:
            assert a["spent"] >= a["amount"] * a["threshold"] / 100 and a["unit"] == "usd" and a["amount"] == 1.0
            assert a["period_start"] == TODAY.isoformat() and a["period_end"] == (TODAY + timedelta(days=1)).isoformat()
            assert a["fired_at"] == NOW.isoformat()
        assert wait_until(lambda: all(a["delivery"] == "delivered" for a in alerts(client, budget="all-daily")))

        platform_tokens = client.get("/api/v1/usage", params={"attr.team": "platform"}).json()["totals"]
        tokens = sum(platform_tokens[k] for k in ("input_tokens", "output_tokens", "cache_read_tokens",
                                                  "cache_creation_tokens"))  # fmt: skip
        assert 250_000 <= tokens < 500_000  # the r05 run: past 50 %, short of 100 %
        weekly = [a for a in fired if a["budget"] == "platform-weekly"]
        assert [(a["kind"], a["threshold"], a["spent"], a["delivery"]) for a in weekly] == [
            ("threshold", 50, tokens, "none")
        ]
        assert not [a for a in fired if a["budget"] == "untouched"]

        assert len(deliveries) == 3 and len(hook.received) == 3
        bodies = sorted((d["body"] for d in deliveries), key=lambda b: b["threshold"])
        assert [b["threshold"] for b in bodies] == [50, 80, 100]
        for b in bodies:
            assert b["budget"] == "all-daily" and b["kind"] == "threshold" and b["amount"] == 1.0
            assert b["text"].startswith('cctelemetry budget "all-daily" reached ') and "% of $1.00 per day" in b["text"]
        assert all(d["content_type"] == "application/json" for d in deliveries)

    status = {b["name"]: b for b in client.get("/api/v1/budgets").json()["budgets"]}
    assert status["all-daily"]["spent"] == pytest.approx(TOTAL_USD, abs=1e-9)
    assert status["all-daily"]["level"] == "over" and status["all-daily"]["crossed"] == [50, 80, 100]
    assert status["platform-weekly"]["spent"] == tokens and status["platform-weekly"]["level"] == "warning"
    assert status["untouched"]["level"] == "ok" and status["untouched"]["source"] == "api"


def test_an_alert_fires_once_across_restarts_and_a_new_period_starts_empty(budget_service, replay_bodies, store,
                                                                            database):  # fmt: skip
    client, state = budget_service
    put(client, {"name": "daily", "period": "day", "amount_usd": 0.5, "thresholds": [100], "projected_overrun": False})
    replay(client, replay_bodies)
    assert wait_until(lambda: len(alerts(client)) == 1)
    state.budget_evaluator.stop()

    restarted = make_state(store, Settings(database=database, tz="UTC", write_flush_ms=5))
    try:
        evaluator = restarted.start_budgets(clock=lambda: NOW + timedelta(minutes=5))
        assert evaluator.check() == []  # the store remembers what fired this period
        evaluator.clock = lambda: NOW + timedelta(days=1)  # tomorrow: nothing spent yet
        assert evaluator.check() == []
        evaluator.stop()
    finally:
        restarted.writer.close()
    assert len(alerts(client)) == 1


def test_projected_overrun_fires_once_before_the_amount_is_reached(budget_service, replay_bodies):
    client, state = budget_service
    put(client, {"name": "projected", "period": "day", "amount_usd": 2.0, "thresholds": [100],
                 "projected_overrun": {"enabled": True, "min_elapsed_pct": 10}})  # fmt: skip
    replay(client, replay_bodies)
    state.budget_evaluator.check()
    fired = wait_until(lambda: alerts(client))
    elapsed = (NOW - TODAY) / timedelta(days=1)  # 12 h 40 min of the day
    assert [(a["kind"], a["threshold"]) for a in fired] == [("projected", 100)]
    # fired by whichever check first saw the projection reach $2.00 (at the latest, all of the replay: $2.28)
    spent = fired[0]["spent"]
    assert 2.0 * elapsed <= spent <= TOTAL_USD + 1e-9
    assert fired[0]["projection"] == pytest.approx(spent / elapsed, abs=1e-6) and fired[0]["projection"] >= 2.0
    (budget,) = [s.to_dict() for s in state.budget_evaluator.budgets.statuses(NOW)]  # as GET shows it at 12:40
    assert budget["overrun_projected"] is True and budget["level"] == "warning"
    assert budget["elapsed_pct"] == pytest.approx(elapsed * 100, abs=1e-3)


def test_a_failing_webhook_is_retried_with_backoff(budget_service, replay_bodies):
    client, state = budget_service
    with WebhookListener(statuses=[500, 503]) as hook:
        put(
            client,
            {
                "name": "retried",
                "projected_overrun": False,
                "period": "day",
                "amount_usd": 1.0,
                "thresholds": [100],
                "webhook": hook.url,
            },
        )
        replay(client, replay_bodies)
        got = hook.wait_for(3)
        assert len(got) == 3 and got[0]["body"] == got[1]["body"] == got[2]["body"]
        (alert,) = wait_until(lambda: [a for a in alerts(client) if a["delivery"] == "delivered"])
        assert alert["attempts"] == 3 and alert["last_error"] == ""


def test_a_webhook_that_always_fails_is_given_up(budget_service, replay_bodies):
    client, state = budget_service
    state.budget_evaluator.sender.attempts = 2
    with WebhookListener(statuses=[500] * 10) as hook:
        put(
            client,
            {
                "name": "broken",
                "projected_overrun": False,
                "period": "day",
                "amount_usd": 1.0,
                "thresholds": [100],
                "webhook": hook.url,
            },
        )
        replay(client, replay_bodies)
        (alert,) = wait_until(lambda: [a for a in alerts(client) if a["delivery"] == "failed"])
        assert alert["attempts"] == 2 and alert["last_error"] == "HTTP 500" and len(hook.received) == 2


def test_a_stuck_webhook_never_holds_up_ingest(budget_service, replay_bodies):
    client, state = budget_service
    with WebhookListener(delay_s=8) as hook:
        put(
            client,
            {
                "name": "stuck",
                "projected_overrun": False,
                "period": "day",
                "amount_usd": 0.01,
                "thresholds": [100],
                "webhook": hook.url,
            },
        )
        replay(client, replay_bodies[:8])
        assert hook.arrived.wait(30), "the alert reached the webhook"
        started = time.monotonic()
        replay(client, replay_bodies[8:])  # while the delivery hangs
        assert time.monotonic() - started < 5
        assert client.get("/api/v1/usage").json()["totals"]["cost_usd"] == pytest.approx(TOTAL_USD, abs=1e-9)


# -- definitions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("budget,message", [
    ({"name": "x", "period": "day"}, "give exactly one of amount_usd and amount_tokens"),
    ({"name": "x", "period": "day", "amount_usd": 1, "amount_tokens": 5}, "give exactly one"),
    ({"name": "x", "period": "fortnight", "amount_usd": 1}, "period"),
    ({"name": "x", "period": "day", "amount_usd": -1}, "amount_usd"),
    ({"name": "x", "period": "day", "amount_usd": 1, "filters": {"colour": "red"}}, "cannot filter on colour"),
    ({"name": "x", "period": "day", "amount_usd": 1, "thresholds": [0]}, "above 0"),
    ({"name": "x", "period": "day", "amount_usd": float("inf")}, "finite"),
    ({"name": "x", "period": "day", "amount_tokens": 10**19}, "less than or equal"),
    ({"name": "x", "period": "day", "amount_usd": 1, "webhook": "ftp://example"}, "http:// or https://"),
    ({"name": "x", "period": "day", "amount_usd": 1, "tz": "Mars/Olympus"}, "unknown time zone"),
    ({"name": "", "period": "day", "amount_usd": 1}, "name"),
    ({"name": "x", "period": "day", "amount_usd": 1, "colour": "red"}, "colour"),
])  # fmt: skip
def test_bad_budgets_are_a_clear_400(client, budget, message):
    r = client.put("/api/v1/budgets", content=json.dumps({"budgets": [budget]}),  # Infinity as Python writes it
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "bad_request", r.text
    assert message in r.json()["error"]
    assert client.get("/api/v1/budgets").json()["budgets"] == []  # nothing was saved


def test_names_are_unique_and_a_put_replaces_the_set(client):
    r = client.put("/api/v1/budgets", json={"budgets": [{"name": "a", "period": "day", "amount_usd": 1}] * 2})
    assert r.status_code == 400 and "two budgets are named 'a'" in r.json()["error"]
    put(client, {"name": "a", "period": "day", "amount_usd": 1}, {"name": "b", "period": "5h", "amount_tokens": 10})
    body = put(client, {"name": "c", "period": "month", "amount_usd": 3, "thresholds": [90, 50]})
    (c,) = body["budgets"]
    assert (c["name"], c["thresholds"], c["unit"], "amount_tokens" in c) == ("c", [50, 90], "usd", False)
    assert c["projected_overrun"] == {"enabled": True, "min_elapsed_pct": 10}


def test_budgets_file_beside_the_api(store, database, tmp_path):
    path = tmp_path / "budgets.json"
    path.write_text(json.dumps({"budgets": [{"name": "from-file", "period": "5-hour block", "amount_tokens": 1000,
                                             "filters": {"user": "me@example.com"}}]}))  # fmt: skip
    state = make_state(store, Settings(database=database, tz="UTC", write_flush_ms=5, budgets_file=str(path)))
    with api_client(state) as client:
        put(client, {"name": "from-api", "period": "week", "amount_usd": 5})
        body = client.get("/api/v1/budgets").json()
        assert [(b["name"], b["source"], b["period"]) for b in body["budgets"]] == [
            ("from-file", "file", "block"), ("from-api", "api", "week")]  # fmt: skip
        assert body["file"] == str(path) and body["file_error"] is None
        r = client.put("/api/v1/budgets", json={"budgets": [{"name": "from-file", "period": "day", "amount_usd": 1}]})
        assert r.status_code == 400 and "CCTELEMETRY_BUDGETS_FILE" in r.json()["error"]
        path.write_text('{"budgets": [{"name": "broken", "period": "day"}]}')
        body = client.get("/api/v1/budgets").json()
        assert [b["name"] for b in body["budgets"]] == ["from-api"]
        assert "budget 0 ('broken')" in body["file_error"] and str(path) in body["file_error"]


# -- periods ----------------------------------------------------------------------------------------------------


def test_block_budget_follows_the_active_5_hour_block(budget_service, replay_bodies):
    client, state = budget_service
    put(client, {"name": "block", "period": "block", "amount_usd": 10})
    replay(client, replay_bodies)
    (b,) = client.get("/api/v1/budgets").json()["budgets"]  # the service's wall clock: the replay is "today"
    state.budget_evaluator.check()
    status = state.budget_evaluator.budgets.statuses(NOW)[0]
    assert status.window.start == TODAY + timedelta(hours=12) and status.window.end == TODAY + timedelta(hours=17)
    assert status.spent == pytest.approx(TOTAL_USD, abs=1e-9)
    assert state.budget_evaluator.budgets.statuses(TODAY + timedelta(hours=17, minutes=1))[0].window is None


def hours(*pairs):
    base = datetime(2026, 12, 1, tzinfo=UTC)
    return [base + timedelta(hours=h) for h in pairs]


@pytest.mark.parametrize("active,start", [
    ([9], 9),
    ([9, 10, 13], 9),            # within 5 h of 09:00
    ([9, 13, 14], 14),           # 14:00 is 5 h after 09:00: a new block
    ([1, 2, 3, 4, 5, 6, 7], 6),  # back to back: 01:00-06:00, then 06:00
    ([1, 8], 8),                 # after a gap
    ([], None),
])  # fmt: skip
def test_blocks_start_as_ccusage_starts_them(active, start):
    found = last_block_start(hours(*active))
    assert found == (hours(start)[0] if start is not None else None)
    if found is not None:
        assert found + BLOCK > hours(*active)[-1]


def test_calendar_periods_in_a_time_zone():
    now = datetime(2026, 3, 29, 12, tzinfo=UTC)  # the day Paris moves to summer time: 23 hours
    day = calendar_window("day", now, "Europe/Paris")
    assert day.start == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert day.end == datetime(2026, 3, 29, 22, tzinfo=UTC)
    week = calendar_window("week", now, "UTC")  # a Sunday: the week began on Monday the 23rd
    assert (week.start.day, (week.end - week.start).days) == (23, 7)
    month = calendar_window("month", datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "UTC")
    assert (month.start, month.end) == (datetime(2026, 12, 1, tzinfo=UTC),
                                        datetime(2027, 1, 1, tzinfo=UTC))  # fmt: skip
    assert calendar_window("day", now, "UTC").elapsed_fraction(now) == 0.5

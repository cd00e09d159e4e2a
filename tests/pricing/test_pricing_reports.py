"""Cost report, reconcile report and price list: functions, API (/api/v1/cost, /cost/reconcile, /prices)
and CLI (cctelemetry cost, cctelemetry prices)."""

import json
from datetime import UTC, datetime

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cctelemetry.api.app import create_app
from cctelemetry.cli.cost import register
from cctelemetry.pricing import load_book, sync_prices
from cctelemetry.reports.cost import reconcile
from cctelemetry.reports.query import RequestFilter
from pricing_support import insert, post_claude_code_fixtures, rates, write_prices


def ts(month, day):
    return datetime(2026, month, day, 12, 0, tzinfo=UTC)


def seed(store):
    """Eight requests; rates per million tokens from prices.json."""
    # A sonnet 4.5: 1000 x 3 + 1000 x 15 = 0.003 + 0.015 = 0.018, reported the same
    insert(store, "A", "claude-sonnet-4-5", ts=ts(10, 15), input=1000, output=1000, reported=0.018, session="s1")
    # B haiku 4.5: 1_000_000 x 1 = 1.0, nothing reported (e.g. a transcript row)
    insert(store, "B", "claude-haiku-4-5", ts=ts(11, 2), input=1_000_000, session="s1", source="transcript")
    # C sonnet 4.5 over 200K: tier 250_000 x 6 + 1000 x 22.5 = 1.5 + 0.0225 = 1.5225;
    #   the client's base-rate cost 250_000 x 3 + 1000 x 15 = 0.75 + 0.015 = 0.765
    insert(store, "C", "claude-sonnet-4-5[1m]", ts=ts(11, 3), input=250_000, output=1000, reported=0.765, session="s2")
    # D sonnet 4.5, 10_000 writes of unknown TTL, 4_000 of them 1h in truth:
    #   reported 1000 x 3 + 4000 x 6 + 6000 x 3.75 = 0.003 + 0.024 + 0.0225 = 0.0495
    #   computed (5m assumed) 0.003 + 10_000 x 3.75 = 0.0405; 1h share = (0.0495 - 0.0405) x 1e6 / (6 - 3.75) = 4000
    insert(store, "D", "claude-sonnet-4-5", ts=ts(11, 4), input=1000, write=10_000, reported=0.0495, session="s2")
    # E unknown model, the client's own price 0.005
    insert(store, "E", "claude-opus-5", ts=ts(11, 5), input=1000, reported=0.005, session="s3")
    # F Codex: 1145 x 1.25 + 1200 x 0.125 + 432 x 10 = 0.00590125, no cost in Codex telemetry
    insert(store, "F", "gpt-5-codex", ts=ts(11, 6), input=1145, read=1200, output=432, agent_product="codex",
           session="s4")  # fmt: skip
    # G haiku 4.5: computed 1000 x 1 = 0.001, reported 0.002: no known cause
    insert(store, "G", "claude-haiku-4-5", ts=ts(11, 7), input=1000, reported=0.002, session="s5")
    # H sonnet 4.5 in fast mode: no fast rates in the book -> 0.003 computed, 0.018 reported (6x)
    insert(store, "H", "claude-sonnet-4-5", ts=ts(11, 8), input=1000, speed="fast", reported=0.018, session="s5")


@pytest.fixture
def api(service_state, monkeypatch):
    app = create_app(service_state.settings, service_state)
    with TestClient(app) as c:
        yield c
    service_state.writer.close()


def get(api, path, **params):
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_cost_by_model_and_month(api, service_state):
    seed(service_state.store)
    body = get(api, "/api/v1/cost", group_by="model", period="month", tz="UTC")
    assert body["group_by"] == ["month", "model"] and body["mode"] == "auto" and body["cache_write_ttl"] == "5m"
    got = [(r["month"], r["model"], r["requests"], r["cost_usd"], r["computed_cost_usd"], r["reported_cost_usd"])
           for r in body["rows"]]  # fmt: skip
    assert got == [
        ("2026-10", "claude-sonnet-4-5", 1, pytest.approx(0.018), pytest.approx(0.018), pytest.approx(0.018)),
        # B computed 1.0 + G reported 0.002 = 1.002; computed 1.0 + 0.001; reported 0.002
        ("2026-11", "claude-haiku-4-5", 2, pytest.approx(1.002), pytest.approx(1.001), pytest.approx(0.002)),
        # H, D and C are grouped apart: C's model id carries [1m]
        ("2026-11", "claude-sonnet-4-5[1m]", 1, pytest.approx(0.765), pytest.approx(1.5225), pytest.approx(0.765)),
        # D 0.0495 + H 0.018 reported; computed 0.0405 + 0.003
        ("2026-11", "claude-sonnet-4-5", 2, pytest.approx(0.0675), pytest.approx(0.0435), pytest.approx(0.0675)),
        ("2026-11", "gpt-5-codex", 1, pytest.approx(0.00590125), pytest.approx(0.00590125), None),
        ("2026-11", "claude-opus-5", 1, pytest.approx(0.005), None, pytest.approx(0.005)),
    ]
    t = body["totals"]
    # auto: 0.018 + 1.002 + 0.765 + 0.0675 + 0.00590125 + 0.005 = 1.86340125
    assert t["cost_usd"] == pytest.approx(1.86340125, abs=1e-12)
    assert (t["unpriced_requests"], t["unknown_models"]) == (1, ["claude-opus-5"])
    assert (t["reported_cost_requests"], t["computed_cost_requests"]) == (6, 2)  # B, F computed
    # the parts add up to the computed cost: 0.018 + 1.001 + 1.5225 + 0.0435 + 0.00590125 = 2.59090125
    parts = sum(t["cost_by_type"][k] for k in ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h",
                                               "web_search"))  # fmt: skip
    assert parts == pytest.approx(t["computed_cost_usd"]) == pytest.approx(2.59090125, abs=1e-12)


def test_cost_modes_filters_and_csv(api, service_state):
    seed(service_state.store)
    calc = get(api, "/api/v1/cost", mode="calculate")["totals"]
    assert calc["cost_usd"] == pytest.approx(2.59090125, abs=1e-12)  # unknown model E adds nothing
    shown = get(api, "/api/v1/cost", mode="display")["totals"]
    # reported only: 0.018 + 0.765 + 0.0495 + 0.005 + 0.002 + 0.018 = 0.8575
    assert shown["cost_usd"] == pytest.approx(0.8575, abs=1e-12)
    week = get(api, "/api/v1/cost", group_by="agent_product", period="week", session="s4")
    assert [(r["week"], r["agent_product"]) for r in week["rows"]] == [("2026-11-02", "codex")]
    csv = api.get("/api/v1/cost", params={"group_by": "session", "format": "csv"})
    assert csv.status_code == 200 and csv.text.splitlines()[0].startswith("session,requests,input_tokens,")
    assert len(csv.text.splitlines()) == 1 + 5
    bad = api.get("/api/v1/cost", params={"period": "year"})
    assert bad.status_code == 400 and "period" in bad.json()["error"]
    assert api.get("/api/v1/cost", params={"mode": "guess"}).status_code == 400


def test_reconcile_requests_with_reasons(api, service_state):
    seed(service_state.store)
    body = get(api, "/api/v1/cost/reconcile")
    got = {r["request_key"]: (r["reason"], r["recovered_cache_write_1h_tokens"]) for r in body["rows"]}
    assert got == {
        "B": ("no_reported_cost", None),
        "C": ("long_context_undercount", None),
        "D": ("cache_write_1h_recovered", 4000),
        "E": ("unknown_model", None),
        "F": ("no_reported_cost", None),
        "G": ("unexplained", None),
        "H": ("fast_mode_not_priced", None),
    }
    rows = {r["request_key"]: r for r in body["rows"]}
    assert rows["C"]["difference_usd"] == pytest.approx(1.5225 - 0.765)
    assert rows["D"]["difference_usd"] == pytest.approx(0.0405 - 0.0495)
    s = body["summary"]
    assert (s["requests"], s["matching_requests"]) == (8, 1)
    assert s["by_reason"] == {"matching": 1, "no_reported_cost": 2, "long_context_undercount": 1, "unknown_model": 1,
                              "cache_write_1h_recovered": 1, "unexplained": 1, "fast_mode_not_priced": 1}  # fmt: skip
    assert body["unknown_models"] == ["claude-opus-5"] and set(body["reasons"]) >= set(s["by_reason"]) - {"matching"}
    # a looser tolerance lets G (0.001 apart) match
    loose = get(api, "/api/v1/cost/reconcile", tolerance=0.005)
    assert "G" not in {r["request_key"] for r in loose["rows"]}


def test_reconcile_by_session_and_model(api, service_state):
    seed(service_state.store)
    sessions = {r["session"]: r for r in get(api, "/api/v1/cost/reconcile", group_by="session")["rows"]}
    assert set(sessions) == {"s1", "s2", "s3", "s4", "s5"}
    assert sessions["s2"]["reasons"] == ["cache_write_1h_recovered", "long_context_undercount"]
    assert sessions["s2"]["recovered_cache_write_1h_tokens"] == 4000
    # s2: computed 1.5225 + 0.0405 = 1.563, reported 0.765 + 0.0495 = 0.8145
    assert sessions["s2"]["difference_usd"] == pytest.approx(1.563 - 0.8145)
    assert (sessions["s1"]["requests"], sessions["s1"]["differing_requests"]) == (2, 1)
    models = {r["model"]: r for r in get(api, "/api/v1/cost/reconcile", group_by="model")["rows"]}
    assert models["claude-opus-5"]["unknown_models"] == ["claude-opus-5"]
    assert models["claude-sonnet-4-5"]["reasons"] == ["cache_write_1h_recovered", "fast_mode_not_priced"]
    csv = api.get("/api/v1/cost/reconcile", params={"group_by": "session", "format": "csv"})
    assert csv.text.splitlines()[0].startswith("session,requests,differing_requests,")
    assert api.get("/api/v1/cost/reconcile", params={"group_by": "day"}).status_code == 400


def test_reconcile_names_an_overridden_price(store, tmp_path):
    path = write_prices(tmp_path, [{"id": "claude-haiku-4-5", "prices": [
        {"effective_from": "2025-10-01", **rates(2, 10, 0.2, 2.5, 4, source="our contract")}]}])  # fmt: skip
    # the client's price: 1000 x 1 = 0.001; ours 1000 x 2 = 0.002
    insert(store, "I", "claude-haiku-4-5", input=1000, reported=0.001)
    book = load_book(path)
    sync_prices(store, book)
    body = reconcile(store, RequestFilter.build(), book=book)
    assert [(r["request_key"], r["reason"]) for r in body["rows"]] == [("I", "price_overridden")]


def test_reconcile_of_the_captured_claude_code_runs_matches_everywhere(api):
    post_claude_code_fixtures(api)
    body = get(api, "/api/v1/cost/reconcile", tolerance=1e-9)
    assert body["rows"] == [] and body["summary"]["by_reason"] == {"matching": body["summary"]["requests"]}
    assert body["summary"]["computed_cost_usd"] == pytest.approx(body["summary"]["reported_cost_usd"], abs=1e-9)


def test_price_list_marks_overrides(api, tmp_path, service_state):
    body = get(api, "/api/v1/prices")
    assert body["unit"] == "USD per million tokens"
    sonnet = [r for r in body["rows"] if r["model"] == "claude-sonnet-4-5"]
    assert len(sonnet) == 1 and sonnet[0]["long_context_threshold"] == 200000 and sonnet[0]["overridden"] is False
    path = write_prices(tmp_path, [{"id": "claude-sonnet-4-5", "prices": [
        {"effective_from": "2026-12-01", **rates(4, 20, 0.4, 5, 8, source="new list price")}]}])  # fmt: skip
    service_state.settings.prices_file = str(path)
    body = get(api, "/api/v1/prices", model="claude-sonnet-4-5-20250929[1m]", day="2026-12-01")
    assert body["resolved"] == {"model": "claude-sonnet-4-5-20250929[1m]", "priced_model": "claude-sonnet-4-5",
                                "effective_from": "2026-12-01", "overridden": True}  # fmt: skip
    assert [(r["effective_from"], r["input"], r["overridden"], r["origin"]) for r in body["rows"]] == [
        ("2025-09-29", 3.0, False, "override"), ("2026-12-01", 4.0, True, "override")]  # fmt: skip
    assert get(api, "/api/v1/prices", model="nope")["resolved"]["priced_model"] == ""
    csv = api.get("/api/v1/prices", params={"format": "csv"})
    assert csv.text.splitlines()[0].startswith("model,provider,aliases,patterns,effective_from,input,")


def test_a_bad_prices_file_is_a_400_naming_the_entry(api, tmp_path, service_state):
    path = write_prices(tmp_path, [{"id": "x", "prices": [{**rates(1, 2, 0, 0, 0), "input": "cheap"}]}])
    service_state.settings.prices_file = str(path)
    r = api.get("/api/v1/cost")
    assert r.status_code == 400 and r.json()["code"] == "bad_price_book"
    assert "model 'x' (models[0]): prices[0].input" in r.json()["error"]


# -- CLI ---------------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli(service_state, monkeypatch):
    """The cost commands on a Typer app of their own, opening the test's store themselves (the CLI's local
    mode: the report layer in this process)."""
    app = typer.Typer()
    register(app)
    monkeypatch.setenv("CCTELEMETRY_DATABASE", service_state.store.database)
    monkeypatch.setenv("CCTELEMETRY_TZ", "UTC")

    def run(*args, code=0):
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.output

    return run


def test_cli_cost(cli, api, service_state):
    seed(service_state.store)
    out = json.loads(cli("cost", "--by", "model", "--period", "month", "--json"))
    assert out == get(api, "/api/v1/cost", group_by="model", period="month")
    table = cli("cost", "--by", "model", "--period", "month", "--breakdown")
    assert "TOTAL" in table and "claude-opus-5" in table
    lines = cli("cost", "--by", "session", "--csv").splitlines()
    assert lines[0].startswith("session,") and len(lines) == 6
    assert "$1.86 " in cli("cost", "--by", "agent_product")  # money as money: cents from a dollar up


def test_cli_reconcile_and_prices(cli, service_state):
    seed(service_state.store)
    out = cli("cost", "--reconcile")
    assert "8 requests, 1 match" in out and "long_context_undercount" in out and "cache_write_1h_recovered" in out
    body = json.loads(cli("cost", "--reconcile", "--by", "session", "--json"))
    assert body["level"] == "session" and len(body["rows"]) == 5
    assert "claude-sonnet-4-5 → claude-sonnet-4-5" in cli("prices", "--model", "claude-sonnet-4-5")
    assert "not in the price book" in cli("prices", "--model", "claude-opus-5", code=1)
    assert "claude-3-haiku" in cli("prices")

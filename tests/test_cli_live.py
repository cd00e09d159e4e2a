"""``cctelemetry budgets``, ``alerts``, ``insights`` and ``metrics``: the API's answers, from the store itself when no
service runs and through the API when one does; tables for people, JSON with --json."""

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from cctelemetry.cli import main as cli
from conftest import live_service

runner = CliRunner()


@pytest.fixture
def local(monkeypatch, replayed_client):
    state = replayed_client.app.state.service
    monkeypatch.setenv("CCTELEMETRY_DATABASE", state.store.database)
    return state


def run(*args, input=None):
    result = runner.invoke(cli.app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_budgets_put_list_and_table(local, replayed_client, tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"budgets": [{"name": "cli-monthly", "period": "month", "amount_usd": 50,
                                             "filters": {"model": "claude-haiku-4-5"}}]}))  # fmt: skip
    put = json.loads(run("budgets", "--put", str(path), "--json"))
    assert [b["name"] for b in put["budgets"]] == ["cli-monthly"]
    listed = json.loads(run("budgets", "--json"))
    assert listed["budgets"][0]["filters"] == {"model": "claude-haiku-4-5"} and listed["budgets"][0]["unit"] == "usd"
    assert replayed_client.get("/api/v1/budgets").json()["budgets"][0]["name"] == "cli-monthly"
    table = run("budgets")
    assert "cli-monthly" in table and "$50.00" in table and "model=claude-haiku-4-5" in table
    from_stdin = json.loads(run("budgets", "--put", "-", "--json", input='{"budgets": []}'))
    assert from_stdin["budgets"] == []


def test_bad_budgets_are_one_line(local, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"budgets": [{"name": "x", "period": "day"}]}')
    result = runner.invoke(cli.app, ["budgets", "--put", str(path)])
    assert result.exit_code == 1 and "give exactly one of amount_usd and amount_tokens" in result.output


def test_alerts_json_and_table(local):
    assert json.loads(run("alerts", "--json")) == {"alerts": []}
    assert "no data" in run("alerts")


def test_insights_json_equals_the_api_and_prints_findings(local, replayed_client):
    out = json.loads(run("insights", "--json"))
    api = replayed_client.get("/api/v1/insights").json()
    assert out["findings"] == api["findings"]
    text = run("insights", "--sql")
    for kind in ("cache", "cache_churn", "model_mix", "long_context", "failures", "roles", "top_sessions"):
        assert kind in text
    assert "SELECT" in text and "$" in text


def test_metrics_text_and_json(local, replayed_client):
    text = run("metrics")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    totals = replayed_client.get("/api/v1/usage").json()["totals"]
    cost = sum(s.value for s in families["claude_code_cost_usage_USD"].samples)
    assert cost == pytest.approx(totals["cost_usd"], abs=1e-9)
    body = json.loads(run("metrics", "--json"))
    assert {"claude_code_token_usage_tokens", "claude_code_session_count"} <= {f["name"] for f in body["families"]}


def test_through_a_running_service(replayed_client):
    with live_service(replayed_client.app.state.service) as url:
        budgets = json.loads(run("budgets", "--json", "--api-url", url))
        insights = json.loads(run("insights", "--json", "--api-url", url, "-w", "model=claude-haiku-4-5"))
        text = run("metrics", "--api-url", url)
    assert budgets == replayed_client.get("/api/v1/budgets").json()
    assert (
        insights["findings"]
        == replayed_client.get("/api/v1/insights", params={"model": "claude-haiku-4-5"}).json()["findings"]
    )
    assert "cctelemetry_ingest_requests_total" in text  # the service adds its own health

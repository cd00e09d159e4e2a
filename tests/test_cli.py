"""The CLI prints the API's reports: from the data itself when no service runs, through the API when one does."""

import json

import pytest
from typer.testing import CliRunner

from cctelemetry.cli import main as cli
from conftest import live_service

runner = CliRunner()


@pytest.fixture
def local(monkeypatch, replayed_client):
    """The CLI's local mode over the replayed database: it opens the store itself (the engine is shared
    in-process) and runs the report layer, with no service and no web app."""
    state = replayed_client.app.state.service
    monkeypatch.setenv("CCTELEMETRY_DATABASE", state.store.database)
    return state


def run(*args):
    result = runner.invoke(cli.app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_usage_json_equals_the_api(local, replayed_client):
    out = json.loads(run("usage", "--by", "session,model", "--json"))
    api = replayed_client.get("/api/v1/usage", params={"group_by": "session,model"}).json()
    assert out["rows"] == api["rows"] and out["totals"] == api["totals"]


def test_usage_table_and_csv(local):
    assert "TOTAL" in run("usage", "--by", "model")
    lines = run("usage", "--by", "model", "--csv").splitlines()
    assert lines[0].startswith("model,requests,")
    assert len(lines) == 3  # header, sonnet, haiku


def test_filters_and_time_options(local):
    out = json.loads(run("usage", "--by", "agent", "-w", "model=claude-haiku-4-5", "--tz", "UTC", "--json"))
    assert {r["agent"] for r in out["rows"]} == {"custom", "generate_session_title"}
    out = json.loads(run("usage", "--since", "2026-11-23", "--json"))
    assert out["totals"]["requests"] == 0


def test_sessions_and_session(local):
    assert "108c97e4" in run("sessions")
    body = json.loads(run("session", "8a0ff020-faf3-401e-a257-17ccc1f45658", "--json"))
    assert len(body["requests"]) == 5
    assert "tool results" in run("session", "8a0ff020-faf3-401e-a257-17ccc1f45658")


def test_sql(local):
    out = json.loads(run("sql", "SELECT count() AS n FROM requests", "--json"))
    assert out["rows"][0]["n"] >= 26


def test_errors_are_one_clear_line(local):
    result = runner.invoke(cli.app, ["usage", "--by", "colour"])
    assert result.exit_code == 1 and "unknown dimension" in result.output
    result = runner.invoke(cli.app, ["sql", "DROP TABLE request_copies"])
    assert result.exit_code == 1 and "read-only" in result.output


def test_through_a_running_service(replayed_client):
    """With a service answering, the CLI asks its API over HTTP, and reads the same as the API."""
    with live_service(replayed_client.app.state.service) as url:
        out = json.loads(run("usage", "--by", "model", "--json", "--api-url", url))
    assert out["totals"] == replayed_client.get("/api/v1/usage").json()["totals"]


def test_locked_data_folder_says_what_to_do(tmp_path):
    from cctelemetry.errors import StoreUnavailable
    from cctelemetry.store import Store

    # this process already holds the test engine: a second folder is refused with a clear message
    with pytest.raises(StoreUnavailable, match="already opened another embedded data folder"):
        Store(f"chdb://{tmp_path}", "x")


def test_the_console_script_builds_the_command_it_runs():
    """``cctelemetry <command>`` turns only that command into click's form (cli/main.py ``main``): each one is still
    found by its name, with its own help; help and unknown names still see every command."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("cctelemetry")
    names = [cli._command_name(c) for c in cli.app.registered_commands]
    assert {"usage", "blocks", "import", "sessions"} <= set(names)
    every = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60, env={"COLUMNS": "200"})
    assert every.returncode == 0 and all(f" {name} " in every.stdout for name in names)
    for name in ("import", "blocks", "usage"):
        one = subprocess.run([script, name, "--help"], capture_output=True, text=True, timeout=60)
        assert one.returncode == 0 and f"Usage: cctelemetry {name} [OPTIONS]" in one.stdout, one.stdout
    unknown = subprocess.run([script, "usag"], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "No such command 'usag'" in unknown.stderr

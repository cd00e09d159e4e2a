"""The edges: the --watch loop, ``cctelemetry import`` and ``POST /api/v1/import``."""

from __future__ import annotations

import json
import threading
import time

import pytest
import typer
from typer.testing import CliRunner

from cctelemetry.ingest.transcripts import watch_transcripts
from transcripts_support import copy_tree, line, raw_row_count


def test_watch_imports_what_appears_and_stops_on_the_event(store, tmp_path):
    folder = tmp_path / "projects" / "-w"
    folder.mkdir(parents=True)
    seen = []
    stop = threading.Event()
    thread = threading.Thread(
        target=watch_transcripts, args=(store, [tmp_path / "projects"], 0.05, stop), kwargs={"on_import": seen.append}
    )
    thread.start()
    try:
        (folder / "a.jsonl").write_text(line("m1", "r1", 5))
        deadline = time.time() + 20
        while time.time() < deadline and raw_row_count(store) < 1:
            time.sleep(0.05)
        with open(folder / "a.jsonl", "a") as fh:
            fh.write(line("m2", "r2", 6))
        while time.time() < deadline and raw_row_count(store) < 2:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert raw_row_count(store) == 2
    assert sum(s.new_requests for s in seen) == 2 and sum(s.rows_written for s in seen) == 2


# -- API -------------------------------------------------------------------------------------------


@pytest.fixture
def api(service_state):
    from fastapi.testclient import TestClient

    from cctelemetry.api.app import create_app

    app = create_app(service_state.settings, service_state)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        service_state.writer.close()


def test_api_import(api, tmp_path):
    projects = copy_tree(tmp_path / "claude")
    r = api.post("/api/v1/import", json={"paths": [str(projects)]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["files"], body["requests"], body["new_requests"], body["duplicate_lines"]) == (14, 21, 21, 3)
    again = api.post("/api/v1/import", json={"paths": [str(projects)]}).json()
    assert (again["files_unchanged"], again["rows_written"]) == (14, 0)


def test_api_import_rejects_relative_paths(api):
    r = api.post("/api/v1/import", json={"paths": ["some/relative/dir"]})
    assert r.status_code == 400 and "absolute" in r.json()["error"]


def test_api_import_reports_missing_paths(api, tmp_path):
    body = api.post("/api/v1/import", json={"paths": [str(tmp_path / "nothing-here")]}).json()
    assert body["files"] == 0 and body["skipped_files"] == {"not_found": 1}


def test_api_import_defaults_to_claude_config_dir(api, tmp_path, monkeypatch):
    copy_tree(tmp_path / "claude")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    body = api.post("/api/v1/import", json={}).json()
    assert (body["files"], body["requests"]) == (14, 21)


# -- CLI -------------------------------------------------------------------------------------------


@pytest.fixture
def cli(store, database, monkeypatch, unused_port):
    from cctelemetry.cli.importer import register

    # the test engine's folder (conftest) and this test's database; no service at the API port
    monkeypatch.setenv("CCTELEMETRY_DATABASE", database)
    monkeypatch.setenv("CCTELEMETRY_API_PORT", str(unused_port))
    app = typer.Typer()
    register(app)

    @app.command("noop", hidden=True)
    def _noop() -> None:  # a second command keeps "import" a sub-command
        pass

    return app


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_import_json(cli, store, tmp_path):
    projects = copy_tree(tmp_path / "claude")
    result = CliRunner().invoke(cli, ["import", str(projects), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert (body["files"], body["requests"], body["rows_written"]) == (14, 21, 21)
    assert raw_row_count(store) == 21


def test_cli_import_table(cli, store, tmp_path):
    projects = copy_tree(tmp_path / "claude")
    result = CliRunner().invoke(cli, ["import", str(projects)])
    assert result.exit_code == 0, result.output
    assert "transcript import" in result.stdout and "requests" in result.stdout
    again = CliRunner().invoke(cli, ["import", str(projects)])
    assert "unchanged since the last import" in again.stdout

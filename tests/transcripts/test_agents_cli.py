"""``cctelemetry import --agent codex|gemini|claude`` and the default folders of every agent."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def cli(store, database, monkeypatch, tmp_path):
    from cctelemetry.cli.importer import register

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CCTELEMETRY_DATABASE", database)
    monkeypatch.setenv("CCTELEMETRY_API_PORT", str(port))  # no service there: the CLI opens the store
    for var in ("CODEX_HOME", "GEMINI_CLI_HOME", "CLAUDE_CONFIG_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    app = typer.Typer()
    register(app)

    @app.command("noop", hidden=True)
    def _noop() -> None:
        pass

    return app


def run(cli, *args) -> dict:
    result = CliRunner().invoke(cli, ["import", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def agents(store) -> dict:
    rows = store.rows(
        "SELECT agent_product, count() n FROM request_copies FINAL WHERE superseded = 0 GROUP BY agent_product"
    )
    return {r["agent_product"]: r["n"] for r in rows}


def test_agent_default_folders(cli, store, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(DATA / "codex-0.169.0" / "rollouts", home / ".codex" / "sessions" / "2026" / "11" / "22")
    shutil.copytree(DATA / "gemini-cli-0.61.0" / "chats", home / ".gemini" / "tmp" / "work" / "chats")
    (home / ".gemini" / "tmp" / "work" / "logs.jsonl").write_text('{"not": "a chat"}\n')  # not Gemini's chat
    assert run(cli, "--agent", "codex")["requests"] == 1
    assert agents(store) == {"codex": 1}
    body = run(cli)  # every agent's default folders that exist
    assert body["files"] == 2 and body["new_requests"] == 1
    assert agents(store) == {"codex": 1, "gemini_cli": 1}


def test_agent_named_for_paths(cli, store, tmp_path):
    # a rollout under a name Codex would not give it: --agent says whose it is
    (tmp_path / "x").mkdir()
    (src,) = (DATA / "codex-0.169.0" / "rollouts").glob("*.jsonl")
    shutil.copy(src, tmp_path / "x" / "renamed.jsonl")
    assert run(cli, str(tmp_path / "x"), "--agent", "codex")["requests"] == 1
    assert agents(store) == {"codex": 1}


def test_unknown_agent_is_an_error(cli):
    result = CliRunner().invoke(cli, ["import", "--agent", "cursor"])
    assert result.exit_code == 1
    assert "unknown agent 'cursor'" in result.output

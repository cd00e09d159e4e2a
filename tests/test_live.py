"""What is happening now: the current session (``GET /api/v1/sessions/current``, ``cctelemetry session current``,
``cctelemetry cost --session current``), the monitor (``GET /api/v1/monitor``, ``cctelemetry monitor --once
--json``, its Rich view, Ctrl-C), and the Python client's ``monitor``, ``current_session`` and
``watch_session``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from cctelemetry.api.live import live_for
from cctelemetry.cli.monitor import render_monitor
from cctelemetry.client import Client
from cctelemetry.ingest.transcripts import import_transcripts
from claude_events import Request, logs_body, post
from conftest import live_service

CLI = str(Path(sys.executable).with_name("cctelemetry"))
PROJECTS = Path(__file__).parent / "data" / "claude-config-projects"
FIXTURE_LATEST = "169ea255-0dd6-4f20-805e-afa2323b0a8b"  # the newest session of the fixture transcripts


@pytest.fixture(autouse=True)
def stop_live(service_state):
    yield
    live_for(service_state).stop()


@pytest.fixture
def now_data(client, store):
    """The fixture transcripts (project /home/dev01/work, November), and telemetry from now: me@x in two
    sessions (one of them the newest, from a subagent), you@x in one."""
    import_transcripts(store, [PROJECTS])
    now = datetime.now(UTC)
    m = timedelta(minutes=1)
    post(client, [
        Request(now - 50 * m, "live-1", "req_live_1", cost_usd=0.5, input_tokens=1000, output_tokens=100,
                cache_read_tokens=9000, user_email="me@x"),
        Request(now - 20 * m, "live-1", "req_live_2", cost_usd=0.5, input_tokens=1000, output_tokens=100,
                cache_read_tokens=9000, user_email="me@x"),
        Request(now - 5 * m, "live-2", "req_live_3", cost_usd=0.25, user_email="me@x",
                attributes={"agent.name": "reviewer"}),
        Request(now - 2 * 60 * m, "old-1", "req_live_4", cost_usd=3.0, user_email="you@x"),
    ])  # fmt: skip
    return now


def test_current_session(client, now_data):
    body = client.get("/api/v1/sessions/current").json()
    assert body["current"]["session"] == "live-2" and body["current"]["matched_by"] == "latest"
    assert body["session"]["session"] == "live-2" and body["requests"][0]["cost_usd"] == 0.25
    # a directory below a known project: that project's latest session (from the transcripts)
    body = client.get("/api/v1/sessions/current", params={"cwd": "/home/dev01/work/src/pkg"}).json()
    assert body["current"] == {
        "session": FIXTURE_LATEST,
        "last_seen": body["current"]["last_seen"],
        "project": "/home/dev01/work",
        "matched_by": "cwd",
        "cwd": "/home/dev01/work/src/pkg",
    }
    # a directory no project is known for: the latest anywhere, and it says so
    assert (
        client.get("/api/v1/sessions/current", params={"cwd": "/elsewhere"}).json()["current"]["matched_by"] == "latest"
    )
    # a project asked for, strictly
    body = client.get("/api/v1/sessions/current", params={"project": "/home/dev01/work"}).json()
    assert body["current"]["session"] == FIXTURE_LATEST and body["current"]["matched_by"] == "project"
    missing = client.get("/api/v1/sessions/current", params={"project": "/nowhere"})
    assert missing.status_code == 404 and "no session in project '/nowhere'" in missing.json()["error"]
    # or an agent, or a person
    assert client.get("/api/v1/sessions/current", params={"agent": "main", "user": "me@x"}).json()["current"][
        "session"] == "live-1"  # fmt: skip
    assert client.get("/api/v1/sessions/current", params={"user": "you@x"}).json()["current"]["session"] == "old-1"


def test_monitor_snapshot(client, now_data):
    body = client.get("/api/v1/monitor").json()
    assert [s["session"] for s in body["sessions"]] == ["live-2", "live-1"]  # active in the last 30 minutes
    live1 = body["sessions"][1]
    assert live1["user"] == "me@x" and live1["requests"] == 2 and live1["cost_usd"] == pytest.approx(1.0)
    assert live1["cache_hit_ratio"] == pytest.approx(9000 / 10000)
    assert live1["burn_rate"]["cost_usd_per_hour"] == pytest.approx(2.0, rel=1e-3)  # $1 over 30 minutes
    users = {b["user"]: b for b in body["blocks"]}
    assert set(users) == {"me@x", "you@x"} and users["me@x"]["cost_usd"] == pytest.approx(1.25)
    assert body["today"]["totals"]["cost_usd"] == pytest.approx(4.25) or now_data.hour < 3  # (just after midnight)
    one = client.get("/api/v1/monitor", params={"session": "old-1", "active_minutes": 5}).json()
    assert [s["session"] for s in one["sessions"]] == ["old-1"] and [b["user"] for b in one["blocks"]] == ["you@x"]
    console = Console(width=160, record=True)
    console.print(render_monitor(body))
    text = console.export_text()
    assert "live-1"[:8] in text and "5-hour block me@x" in text and "today $4.25" in text.replace(",", "") or \
        now_data.hour < 3  # fmt: skip


@pytest.mark.timeout(90)
def test_client_methods_and_watch_session(service_state, now_data):
    with live_service(service_state) as url:
        c = Client(url)
        assert c.current_session()["current"]["session"] == "live-2"
        assert c.monitor(active_minutes=60)["sessions"][0]["session"] == "live-2"
        assert c.blocks(active=True, filters={"user": "me@x"})["blocks"][0]["requests"] == 3
        assert c.limits()["windows"] == {"five_hour": None, "seven_day": None}
        updates = c.watch_session("current", interval=0.2)
        first = next(updates)
        assert first["session"] == "live-2" and first["row"]["requests"] == 1 and first["block"]["user"] == "me@x"
        body = logs_body([Request(datetime.now(UTC), "live-2", "req_live_5", cost_usd=0.75, user_email="me@x")])
        request = urllib.request.Request(url + "/v1/logs", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        assert urllib.request.urlopen(request, timeout=30).status == 200
        second = next(updates)  # the next one is a change: the new request (the service refreshes within 2 s)
        assert second["row"]["requests"] == 2
        assert second["row"]["cost_usd"] == pytest.approx(1.0)
        updates.close()


def test_cli_current_and_monitor(service_state, now_data, tmp_path, monkeypatch):
    from cctelemetry.api.routes import live as live_routes

    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    env["COLUMNS"] = "160"
    with live_service(service_state) as url:

        def cli(*args, cwd=None):
            return subprocess.run([CLI, *args, "--api-url", url], capture_output=True, text=True, timeout=60,
                                  env=env, cwd=cwd)  # fmt: skip

        out = cli("session", "current", "--json", cwd="/")
        assert out.returncode == 0 and out.stderr == "" and json.loads(out.stdout)["current"]["session"] == "live-2"
        out = cli("session", "current", "--project", "/home/dev01/work")
        assert (
            out.returncode == 0
            and f"current session: {FIXTURE_LATEST}, latest in project /home/dev01/work" in out.stdout
        )
        out = cli("cost", "--session", "current", "--json", cwd="/")
        assert out.returncode == 0 and json.loads(out.stdout)["totals"]["cost_usd"] == pytest.approx(0.25)
        out = cli("monitor", "--once", "--json")
        assert out.returncode == 0 and out.stderr == ""
        assert [s["session"] for s in json.loads(out.stdout)["sessions"]] == ["live-2", "live-1"]
        out = cli("monitor", "current", "--once", cwd="/")
        assert out.returncode == 0 and "live-2" in out.stdout and "5-hour block me@x" in out.stdout
        # the live view: refreshed, and Ctrl-C ends it cleanly
        # Ctrl-C once the live view has asked twice (it is running, its Ctrl-C handler set), however slowly the
        # command started on a busy machine
        asked = []
        snapshots = live_routes.live_for
        monkeypatch.setattr(live_routes, "live_for", lambda state: asked.append(1) or snapshots(state))
        proc = subprocess.Popen([CLI, "monitor", "--interval", "0.3", "--api-url", url], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
        deadline = time.monotonic() + 60
        while len(asked) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert len(asked) >= 2, "the live monitor did not ask the service twice within a minute"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0 and stderr == "" and "cctelemetry monitor" in stdout

"""The statusline: ``POST /api/v1/statusline`` with the documented statusline JSON (with and without
``rate_limits``, with nulls) answers with the line and stores the official limits; ``cctelemetry statusline``
(a real process) prints the service's line, or the input's alone when no service answers, and never fails."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cctelemetry.api.live import live_for
from cctelemetry.statusline.hook import Hook
from cctelemetry.statusline.line import Style, render
from claude_events import Request, post
from conftest import DATA, free_port, live_service

INPUTS = DATA / "statusline"
DOCUMENTED = json.loads((INPUTS / "documented.json").read_text())
NO_LIMITS = json.loads((INPUTS / "no-rate-limits.json").read_text())
NULLS = json.loads((INPUTS / "nulls.json").read_text())
CLI = str(Path(sys.executable).with_name("cctelemetry"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def stop_live(service_state):
    """The service's live figures run on threads of their own: stopped with the test's service."""
    yield
    live_for(service_state).stop()


def stored(store) -> list[dict]:
    return store.rows(
        "SELECT window, used_percentage, toUnixTimestamp(resets_at) AS resets_at, session_id, model, "
        "model_display_name, agent_version, session_cost_usd, session_input_tokens, fast_mode, project_dir "
        "FROM rate_limit_snapshots ORDER BY observed_at, window"
    )


def test_documented_input_line_and_snapshots(client, service_state, store):
    r = client.post("/api/v1/statusline", json=DOCUMENTED, params={"color": "false"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stored_snapshots"] == 2
    line = body["line"]
    # no requests of this session yet: Claude Code's own cost; the official figures (their resets are past)
    assert line.startswith("Opus │ $0.01 session")
    assert "5h 24%" in line and "7d 41%" in line and "ctx 8%" in line
    assert "\x1b[" not in line
    live_for(service_state).recorder.flush()
    rows = stored(store)
    assert [(r["window"], r["used_percentage"], r["resets_at"]) for r in rows] == [
        ("five_hour", 23.5, 1738425600), ("seven_day", 41.2, 1738857600)]  # fmt: skip
    assert {r["session_id"] for r in rows} == {"abc123..."} and rows[0]["model"] == "claude-opus-5"
    assert rows[0]["model_display_name"] == "Opus" and rows[0]["agent_version"] == "2.1.90"
    assert rows[0]["session_cost_usd"] == 0.01234 and rows[0]["session_input_tokens"] == 15500
    assert rows[0]["project_dir"] == "/original/project/directory" and rows[0]["fast_mode"] == 0


def test_the_same_figure_is_stored_once_a_change_at_once(client, service_state, store):
    for _ in range(5):
        assert client.post("/api/v1/statusline", json=DOCUMENTED).status_code == 200
    changed = json.loads(json.dumps(DOCUMENTED))
    changed["rate_limits"]["five_hour"]["used_percentage"] = 24.0
    assert client.post("/api/v1/statusline", json=changed).json()["stored_snapshots"] == 1
    live_for(service_state).recorder.flush()
    assert [(r["window"], r["used_percentage"]) for r in stored(store)] == [
        ("five_hour", 23.5), ("seven_day", 41.2), ("five_hour", 24.0)]  # fmt: skip


def test_without_rate_limits_and_with_nulls(client, service_state, store):
    line = client.post("/api/v1/statusline", json=NO_LIMITS, params={"color": "false"}).json()["line"]
    assert line == "Sonnet 4.5 │ $0.06 session │ ctx 1%"
    body = client.post("/api/v1/statusline", json=NULLS, params={"color": "false", "format": "json"}).json()
    # a window without resets_at is still a figure; a null window and null context are left out
    assert body["line"] == "Opus 4.6 │ $0.00 session │ 5h 91%" and body["stored_snapshots"] == 1
    text = client.post("/api/v1/statusline", json=NULLS, params={"format": "text"})
    assert text.headers["content-type"].startswith("text/plain")
    assert "\x1b[31m5h 91%\x1b[0m" in text.text  # red: at or over the critical 80 %
    live_for(service_state).recorder.flush()
    assert [(r["window"], r["used_percentage"], r["resets_at"]) for r in stored(store)] == [("five_hour", 91.0, None)]


@pytest.mark.parametrize("body", [[1, 2], "text", 3])
def test_not_an_object_is_a_400(client, body):
    r = client.post("/api/v1/statusline", json=body)
    assert r.status_code == 400 and r.json()["ok"] is False


def test_service_figures_session_today_block(client, service_state, store):
    now = datetime.now(UTC)
    session = NO_LIMITS["session_id"]
    post(
        client,
        [
            Request(now - timedelta(minutes=m), session, f"req_sl_{m}", cost_usd=0.25, user_email="me@x")
            for m in (40, 20, 5)
        ]
        + [
            Request(now - timedelta(minutes=30), "other-session", "req_sl_other", cost_usd=1.0, user_email="me@x"),
            Request(now - timedelta(minutes=30), "not-mine", "req_sl_theirs", cost_usd=9.0, user_email="you@x"),
        ],
    )
    started = time.monotonic()
    assert client.get("/api/v1/monitor").status_code == 200  # computes the figures (a statusline waits 0.25 s at most)
    print(f"monitor snapshot: {time.monotonic() - started:.3f} s")
    body = client.post("/api/v1/statusline", json=NO_LIMITS, params={"color": "false"}).json()
    figures = body["figures"]
    assert figures["user"] == "me@x" and figures["session_cost_usd"] == pytest.approx(0.75)
    assert figures["today_cost_usd"] == pytest.approx(1.75) or now.hour == 0  # (just after midnight: less)
    assert figures["block"]["cost_usd"] == pytest.approx(1.75) and figures["block"]["is_active"]
    assert body["line"].startswith("Sonnet 4.5 │ $0.75 session │ ")
    assert re.search(r"\$1\.75 block, (\d+h \d\dm|\d+m) left │ \$\d+\.\d\d/h", body["line"]), body["line"]


def test_render_thresholds_and_colours():
    hook = Hook.parse(
        {
            "model": {"display_name": "Opus"},
            "rate_limits": {"five_hour": {"used_percentage": 49.9}, "seven_day": {"used_percentage": 50}},
        }
    )
    style = Style(warn_percent=50, critical_percent=80)
    line = render(hook, None, style)
    assert "\x1b[32m5h 50%\x1b[0m" in line and "\x1b[33m7d 50%\x1b[0m" in line
    assert ANSI.sub("", render(hook, None, Style(warn_percent=10, critical_percent=20))) == "Opus │ 5h 50% │ 7d 50%"
    assert "\x1b[31m5h 50%" in render(hook, None, Style(warn_percent=10, critical_percent=20))
    block = {"cost_usd": 1.5, "minutes_remaining": 125, "burn_rate": {"cost_usd_per_hour": 3.1,
                                                                      "non_cache_tokens_per_minute": 6000}}  # fmt: skip
    line = render(Hook.parse({}), {"today_cost_usd": 2, "block": block}, Style())
    assert ANSI.sub("", line) == "$2.00 today │ $1.50 block, 2h 05m left │ $3.10/h"
    assert "\x1b[31m$3.10/h" in line  # over 5,000 tokens per minute
    assert render(Hook.parse({"model": {"id": "x"}}), None, Style(color=False)) == "x"


# -- the command, a real process --------------------------------------------------------------------------


def run_statusline(stdin: bytes, env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    env.update(env_extra)
    return subprocess.run([CLI, "statusline", *args], input=stdin, capture_output=True, timeout=30, env=env)


def test_command_prints_the_service_line(service_state, store):
    with live_service(service_state) as url:
        out = run_statusline(json.dumps(DOCUMENTED).encode(), {"CCTELEMETRY_API_URL": url, "NO_COLOR": "1"})
        assert out.returncode == 0 and out.stderr == b""
        assert out.stdout.decode().startswith("Opus │ $0.01 session") and "5h 24%" in out.stdout.decode()
        live_for(service_state).recorder.flush()
        assert len(stored(store)) == 2  # it went through the service
        out = run_statusline(json.dumps(DOCUMENTED).encode(), {"CCTELEMETRY_API_URL": url, "NO_COLOR": "1"}, "--json")
        assert out.returncode == 0 and json.loads(out.stdout)["line"].startswith("Opus │ $0.01 session")


def test_command_without_a_service_prints_the_input_alone(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    out = run_statusline(json.dumps(DOCUMENTED).encode(), {"CCTELEMETRY_API_URL": dead, "NO_COLOR": "1"})
    assert out.returncode == 0 and out.stderr == b"" and time.monotonic() - started < 10
    assert out.stdout.decode() == "Opus │ $0.01 session │ 5h 24% │ 7d 41% │ ctx 8%\n"
    out = run_statusline(json.dumps(DOCUMENTED).encode(), {"CCTELEMETRY_API_URL": dead, "NO_COLOR": "1"}, "--json")
    assert json.loads(out.stdout) == {"line": "Opus │ $0.01 session │ 5h 24% │ 7d 41% │ ctx 8%", "figures": None,
                                      "stored_snapshots": 0}  # fmt: skip
    # found from the data folder's service.json (a service that is gone): the same
    (tmp_path / "service.json").write_text(json.dumps({"pid": 1, "api_url": dead}))
    out = run_statusline(json.dumps(NULLS).encode(), {"CCTELEMETRY_DATA_DIR": str(tmp_path), "NO_COLOR": "1"})
    assert out.returncode == 0 and out.stdout.decode() == "Opus 4.6 │ $0.00 session │ 5h 91%\n"


@pytest.mark.parametrize("stdin", [b"", b"not json", b"[1,2]", b"\xff\xfe", b'{"model": 3, "rate_limits": []}'])
def test_command_never_fails(stdin):
    out = run_statusline(stdin, {"CCTELEMETRY_API_URL": f"http://127.0.0.1:{free_port()}"})
    assert out.returncode == 0 and out.stderr == b"" and out.stdout.endswith(b"\n")


def test_command_gives_up_on_a_service_that_hangs(tmp_path):
    import socket

    with socket.socket() as hanging:  # accepts connections, never answers
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(8)
        url = f"http://127.0.0.1:{hanging.getsockname()[1]}"
        started = time.monotonic()
        out = run_statusline(json.dumps(NO_LIMITS).encode(), {"CCTELEMETRY_API_URL": url, "NO_COLOR": "1",
                                                               "CCTELEMETRY_STATUSLINE_TIMEOUT_MS": "300"})  # fmt: skip
        assert out.returncode == 0 and out.stdout.decode() == "Sonnet 4.5 │ $0.06 session │ ctx 1%\n"
        assert time.monotonic() - started < 5

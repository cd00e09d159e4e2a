"""A hub: one service that two machines report to, over loopback. Two real ``cctelemetry serve`` processes: the hub,
and the desktop's own service (its numbers are what the hub must show for the desktop).

- The **laptop** (Claude Code) sends its telemetry to the hub (``host.name=laptop``, as setup-telemetry.sh
  --endpoint sets it) and pushes its transcripts there (``cctelemetry import --to``): the hub counts each
  request once, per session the CLI's own cost (tests/data/claude-code-2.1.197/runs-summary.json).
- The **desktop** (Codex CLI and Gemini CLI) had its own service, with its telemetry and its session files
  imported. It joins the hub: it pushes its files (interrupted once, then resumed), then its telemetry goes to
  the hub too. The hub's figures for ``host=desktop`` equal the desktop's own service's, measure for measure.
- The hub's totals are the sum of the two machines'; no request is there twice; a second push sends nothing;
  a line appended to a transcript is all the next push sends; ``--full`` sends everything and adds nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from cctelemetry.client import Client
from cctelemetry.push import push
from otlp_replay import exports
from serve_proc import CLI, ServeProcess, clean_env

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[1] / "data"
CLAUDE_RUNS = DATA / "claude-code-2.1.197"
LAPTOP_FILES = len(list((DATA / "claude-config-projects").rglob("*.jsonl")))
SUMMARY = {row[1]: row for row in json.loads((CLAUDE_RUNS / "runs-summary.json").read_text())}
CODEX_RUN = DATA / "codex-0.169.0" / "otlp" / "codex01-exec-json"
GEMINI_RUN = DATA / "gemini-cli-0.61.0" / "otlp" / "gemini01-p-json"
MEASURES = ("requests", "input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens",
            "cache_creation_tokens", "reported_cost_usd", "computed_cost_usd", "cost_usd")  # fmt: skip
ALL_TIME = {"since": "2000-01-01"}


def with_host(export: dict, host: str) -> dict:
    """The export as the machine's exporter sends it with OTEL_RESOURCE_ATTRIBUTES=host.name=<host>."""
    for key in ("resourceLogs", "resourceMetrics", "resourceSpans"):
        for resource in export.get(key, []):
            attributes = resource.setdefault("resource", {}).setdefault("attributes", [])
            attributes.append({"key": "host.name", "value": {"stringValue": host}})
    return export


def send_telemetry(otlp_url: str, runs: list[Path], host: str) -> int:
    n = 0
    with httpx.Client(timeout=60) as http:
        for run in runs:
            for signal, export in exports(run):
                r = http.post(f"{otlp_url}/v1/{signal}", json=with_host(export, host))
                assert r.status_code == 200, r.text
                n += 1
    return n


def cli(*args: str, env: dict) -> dict:
    out = subprocess.run([CLI, *args, "--json"], capture_output=True, text=True, env=env, timeout=300,
                         stdin=subprocess.DEVNULL)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def measures(totals: dict) -> dict:
    return {k: pytest.approx(totals[k], abs=1e-9) if isinstance(totals[k], float) else totals[k] for k in MEASURES}


@pytest.fixture
def machines(tmp_path):
    laptop, desktop = tmp_path / "laptop", tmp_path / "desktop"
    shutil.copytree(DATA / "claude-config-projects", laptop / ".claude" / "projects")
    codex = desktop / ".codex"
    shutil.copytree(DATA / "codex-fork-tree", codex)
    rollout = next((DATA / "codex-0.169.0" / "rollouts").glob("rollout-*.jsonl"))
    (codex / "sessions" / "2026" / "11" / "22").mkdir(parents=True)
    shutil.copy(rollout, codex / "sessions" / "2026" / "11" / "22" / rollout.name)
    chats = desktop / ".gemini" / "tmp" / "work" / "chats"
    chats.mkdir(parents=True)
    for chat in (DATA / "gemini-cli-0.61.0" / "chats").glob("*.jsonl"):
        shutil.copy(chat, chats / chat.name)
    return laptop, desktop


def test_two_machines_one_hub_totals_add_up_exactly(tmp_path, machines):
    laptop, desktop = machines
    # (a token: sent by the push as Authorization: Bearer; a hub without one configured takes it as it is)
    laptop_env = clean_env(laptop, CCTELEMETRY_HOST_NAME="laptop", CCTELEMETRY_API_TOKEN="laptop-token")
    desktop_env = clean_env(desktop, CCTELEMETRY_HOST_NAME="desktop")
    with ServeProcess(tmp_path / "hub-data") as hub, ServeProcess(tmp_path / "desktop-data", env=desktop_env) as own:
        hub_api = Client(hub.api_url)

        # The laptop: telemetry to the hub, then its transcripts pushed there.
        send_telemetry(hub.otlp_url, sorted((CLAUDE_RUNS / "otlp").iterdir()), "laptop")
        pushed = cli("import", "--to", hub.api_url, env=laptop_env)
        assert (pushed["host"], pushed["files"], pushed["files_sent"]) == ("laptop", LAPTOP_FILES, LAPTOP_FILES)
        # every transcript request but one was telemetry already; the one left is known to transcripts only
        assert (pushed["requests"], pushed["known_requests"], pushed["new_requests"]) == (21, 20, 1)

        # The desktop: its own service has its telemetry and its files ...
        send_telemetry(own.otlp_url, [CODEX_RUN, GEMINI_RUN], "desktop")
        local = cli("import", "--api-url", own.api_url, env=desktop_env)
        assert local["files"] == 8 and local["new_requests"] > 0
        own_totals = Client(own.api_url).usage(**ALL_TIME)["totals"]

        # ... then it joins the hub: the files pushed (the first push stops after one upload; the next resumes) ...
        state = desktop / ".local" / "share" / "cctelemetry" / "pushes"

        def interrupt(done: int, total: int) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            roots = [
                desktop / ".codex" / "sessions",
                desktop / ".codex" / "archived_sessions",
                desktop / ".gemini" / "tmp",
            ]
            push(hub_api, roots, state, host="desktop", upload_bytes=4096, progress=interrupt)
        resumed = cli("import", "--to", hub.api_url, env=desktop_env)
        assert 0 < resumed["files_sent"] < resumed["files"] == 8
        # ... and its telemetry goes to the hub from now on.
        send_telemetry(hub.otlp_url, [CODEX_RUN, GEMINI_RUN], "desktop")

        by_host = {r["host"]: r for r in hub_api.usage(group_by="host", **ALL_TIME)["rows"]}
        assert set(by_host) == {"laptop", "desktop"}
        assert measures(by_host["desktop"]) == measures(own_totals)
        hub_desktop = hub_api.usage(group_by="session,agent_product", filters={"host": "desktop"}, **ALL_TIME)["rows"]
        own_desktop = Client(own.api_url).usage(group_by="session,agent_product", **ALL_TIME)["rows"]
        assert sorted((r["session"], r["requests"]) for r in hub_desktop) == \
            sorted((r["session"], r["requests"]) for r in own_desktop)  # fmt: skip

        sessions = {r["session"]: r for r in hub_api.usage(group_by="session", filters={"host": "laptop"},
                                                           **ALL_TIME)["rows"]}  # fmt: skip
        assert set(SUMMARY) <= set(sessions)  # (and a session only its transcript has)
        for session, (run, _, n_events, _, cli_total, _, event_total, _) in SUMMARY.items():
            assert sessions[session]["requests"] == n_events, run
            expected = cli_total if cli_total is not None else event_total
            assert sessions[session]["reported_cost_usd"] == pytest.approx(expected, abs=1e-9), run

        totals = hub_api.usage(**ALL_TIME)["totals"]
        for k in ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens"):
            assert totals[k] == by_host["laptop"][k] + by_host["desktop"][k], k
        assert totals["cost_usd"] == pytest.approx(by_host["laptop"]["cost_usd"] + by_host["desktop"]["cost_usd"],
                                                   abs=1e-9)  # fmt: skip
        twice = hub_api.sql("SELECT count() AS n FROM (SELECT agent_product, session_id, request_key FROM requests "
                            "GROUP BY ALL HAVING count() > 1)")["rows"][0]["n"]  # fmt: skip
        assert int(twice) == 0

        # Pushing again sends nothing; an appended line is all the next push sends; --full adds nothing.
        again = cli("import", "--to", hub.api_url, env=laptop_env)
        assert (again["files_sent"], again["uploads"], again["files_unchanged"]) == (0, 0, LAPTOP_FILES)
        transcript = laptop / ".claude" / "projects" / "-home-dev01-work" / f"{next(iter(SUMMARY))}.jsonl"
        line = new_request_line(transcript)
        with open(transcript, "a") as fh:
            fh.write(line)
        grown = cli("import", "--to", hub.api_url, env=laptop_env)
        assert (grown["files_sent"], grown["bytes_sent"], grown["new_requests"]) == (1, len(line.encode()), 1)
        full = cli("import", "--to", hub.api_url, "--full", env=laptop_env)
        assert (full["files_sent"], full["new_requests"]) == (LAPTOP_FILES, 0)
        after = hub_api.usage(**ALL_TIME)["totals"]
        assert after["requests"] == totals["requests"] + 1


def new_request_line(transcript: Path) -> str:
    """One more response in the session: its last request line with new ids and a later time."""
    last = [json.loads(x) for x in transcript.read_text().splitlines() if '"usage"' in x][-1]
    last.update(uuid="hub-test-uuid", requestId="req_hub_test_appended", timestamp="2026-11-22T23:59:00.000Z")
    last["message"]["id"] = "msg_hub_test_appended"
    return json.dumps(last) + "\n"

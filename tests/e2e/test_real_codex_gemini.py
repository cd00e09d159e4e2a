"""End to end: the real Codex CLI (0.169.0) and Gemini CLI (0.61.0), from npm, offline against fake model
APIs on 127.0.0.1, exporting OpenTelemetry to a ``cctelemetry serve`` subprocess. Per session, tokens by type
and cost equal the fake API's usage priced by the book; importing the CLI's own rollout/chat file afterwards
adds nothing. Each skips cleanly where npm cannot install its CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from agents_support import cost_by_hand
from fake_agent_apis import FakeGemini, FakeOpenAI

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

INSTALL = REPO / "scripts" / "install-agent-cli.sh"
CLIS = {"codex": ("0.169.0", REPO / ".tools/codex/node_modules/.bin/codex"),
        "gemini-cli": ("0.61.0", REPO / ".tools/gemini-cli/node_modules/.bin/gemini")}  # fmt: skip
CLI_TIMEOUT_S = 120
WAIT_S = 30  # telemetry is flushed when the CLI exits; allow the writer a moment
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "reasoning_tokens")
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def installed(name: str) -> Path:
    version, binary = CLIS[name]
    try:
        out = subprocess.run(["bash", str(INSTALL), name], capture_output=True, text=True, timeout=1200)
        log = (out.stdout + out.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        log = repr(exc)
    if not binary.exists():
        pytest.skip(f"{name} {version} could not be installed: {log}")
    try:
        got = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL).stdout.strip()  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"{binary} does not run: {exc!r}")
    if not got.endswith(version):
        pytest.skip(f"{binary} --version gave {got!r}, want {version}")
    return binary


def base_env(home: Path, proxy: str) -> dict:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
            "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "https_proxy": proxy, "http_proxy": proxy,
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}  # fmt: skip


def run(cmd: list[str], env: dict, cwd: Path) -> str:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
                          stdin=subprocess.DEVNULL)  # fmt: skip
    assert proc.returncode == 0, f"{cmd[0]} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return proc.stdout


def session_usage(service, session: str, want_requests: int) -> dict:
    """The session's row once it holds ``want_requests`` requests (bounded wait)."""
    query = urllib.parse.urlencode({"group_by": "session,agent_product,model", "session": session})
    deadline, rows = time.monotonic() + WAIT_S, []
    while time.monotonic() < deadline:
        status, body = service.get_json(f"/api/v1/usage?{query}")
        assert status == 200, body
        rows = body["rows"]
        if sum(r["requests"] for r in rows) >= want_requests:
            break
        time.sleep(0.3)
    assert len(rows) == 1, f"session {session}: {rows}\n{service.log_tail()}"
    return rows[0]


def import_files(service, paths: list[Path], agent: str) -> dict:
    req = urllib.request.Request(service.api_url + "/api/v1/import", method="POST",
                                 data=json.dumps({"paths": [str(p) for p in paths], "agent": agent}).encode(),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    with _http.open(req, timeout=120) as resp:
        return json.loads(resp.read())


def expected(calls, disjoint) -> dict:
    out = dict.fromkeys(TOKENS, 0)
    for call in calls:
        for k, v in disjoint(call.usage).items():
            out[k] += v
    return out


def check(service, session: str, product: str, model: str, calls, disjoint, files: list[Path], agent: str):
    assert calls, "the CLI made no model call"
    print(f"{product}: {len(calls)} model call(s)")
    row = session_usage(service, session, len(calls))
    assert (row["agent_product"], row["model"], row["requests"]) == (product, model, len(calls))
    want = expected(calls, disjoint)
    assert {k: row[k] for k in TOKENS} == want
    cost = sum(cost_by_hand(model, disjoint(c.usage)) for c in calls)
    assert row["cost_usd"] == pytest.approx(cost, abs=1e-12)
    assert row["computed_cost_usd"] == pytest.approx(cost, abs=1e-12)
    # the CLI's own session file, imported afterwards, adds nothing
    summary = import_files(service, files, agent)
    assert summary["new_requests"] == 0, summary
    assert summary["files_unchanged"] or summary["known_requests"] >= len(calls), summary
    again = session_usage(service, session, len(calls))
    assert {k: again[k] for k in (*TOKENS, "requests", "cost_usd")} == {
        k: row[k] for k in (*TOKENS, "requests", "cost_usd")
    }


def codex_disjoint(u: dict) -> dict:
    cached = u["input_tokens_details"]["cached_tokens"]
    return {"input_tokens": u["input_tokens"] - cached, "output_tokens": u["output_tokens"],
            "cache_read_tokens": cached, "cache_creation_tokens": 0,
            "reasoning_tokens": u["output_tokens_details"]["reasoning_tokens"]}  # fmt: skip


def gemini_disjoint(u: dict) -> dict:
    return {"input_tokens": u["promptTokenCount"] - u["cachedContentTokenCount"],
            "output_tokens": u["candidatesTokenCount"] + u["thoughtsTokenCount"],
            "cache_read_tokens": u["cachedContentTokenCount"], "cache_creation_tokens": 0,
            "reasoning_tokens": u["thoughtsTokenCount"]}  # fmt: skip


CODEX_CONFIG = """model = "gpt-5-codex"
model_provider = "fake"
approval_policy = "never"
sandbox_mode = "read-only"

[model_providers.fake]
name = "fake"
base_url = "{api}/v1"
wire_api = "responses"
env_key = "FAKE_OPENAI_API_KEY"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[otel]
environment = "e2e"
log_user_prompt = true
exporter = {{ otlp-http = {{ endpoint = "{otlp}/v1/logs", protocol = "binary" }} }}
metrics_exporter = {{ otlp-http = {{ endpoint = "{otlp}/v1/metrics", protocol = "binary" }} }}
trace_exporter = "none"
"""


def codex_setup(service, proxy, tmp_path, api) -> tuple[dict, Path, Path]:
    home, work = tmp_path / "home", tmp_path / "work"
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True)
    work.mkdir()
    (codex_home / "config.toml").write_text(CODEX_CONFIG.format(api=api.url, otlp=service.otlp_url))
    env = base_env(home, proxy) | {"CODEX_HOME": str(codex_home), "FAKE_OPENAI_API_KEY": "sk-fake"}
    return env, codex_home, work


def codex_exec(codex: Path, env: dict, work: Path, *args: str) -> str:
    """``codex exec [args] --json``: the thread id it printed."""
    out = run([str(codex), "exec", "--skip-git-repo-check", "--json", *args], env, work)
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    (thread,) = [e["thread_id"] for e in events if e.get("type") == "thread.started"]
    return thread


def test_real_codex_exec(service, blackhole_proxy, tmp_path):
    codex = installed("codex")
    with FakeOpenAI() as api:
        env, codex_home, work = codex_setup(service, blackhole_proxy, tmp_path, api)
        session = codex_exec(codex, env, work, "say hi")
        calls = api.model_calls()
    check(service, session, "codex", "gpt-5-codex", calls, codex_disjoint, [codex_home / "sessions"], "codex")


def test_real_codex_resume_and_fork_count_each_response_once(service, blackhole_proxy, tmp_path):
    """A thread resumed, then forked: each thread's own responses, once, from telemetry and from the
    rollouts (the fork's rollout copies the parent's history)."""
    codex = installed("codex")
    with FakeOpenAI() as api:
        env, codex_home, work = codex_setup(service, blackhole_proxy, tmp_path, api)
        parent = codex_exec(codex, env, work, "say hi")
        assert codex_exec(codex, env, work, "resume", parent, "and again") == parent
        parent_calls = api.model_calls()
        child = codex_exec(codex, env, work, "fork", parent, "a forked question")
        child_calls = api.model_calls()[len(parent_calls) :]
    assert child != parent and len(parent_calls) >= 2 and child_calls
    rollouts = sorted((codex_home / "sessions").rglob("rollout-*.jsonl"))
    assert len(rollouts) == 2, rollouts
    check(service, parent, "codex", "gpt-5-codex", parent_calls, codex_disjoint, [codex_home / "sessions"], "codex")
    check(service, child, "codex", "gpt-5-codex", child_calls, codex_disjoint, [codex_home / "sessions"], "codex")


GEMINI_SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "telemetry": {"enabled": True, "target": "local", "otlpProtocol": "http", "logPrompts": False},
    "privacy": {"usageStatisticsEnabled": False},
    "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
}


def test_real_gemini_cli(service, blackhole_proxy, tmp_path):
    gemini = installed("gemini-cli")
    home, work = tmp_path / "home", tmp_path / "work"
    (home / ".gemini").mkdir(parents=True)
    work.mkdir()
    (home / ".gemini" / "settings.json").write_text(json.dumps(GEMINI_SETTINGS))
    with FakeGemini() as api:
        env = base_env(home, blackhole_proxy) | {
            "GEMINI_CLI_TRUST_WORKSPACE": "true", "GEMINI_API_KEY": "fake", "GOOGLE_GEMINI_BASE_URL": api.url,
            "GEMINI_TELEMETRY_ENABLED": "true", "GEMINI_TELEMETRY_TARGET": "local",
            "GEMINI_TELEMETRY_OTLP_ENDPOINT": service.otlp_url, "GEMINI_TELEMETRY_OTLP_PROTOCOL": "http",
        }  # fmt: skip
        out = run([str(gemini), "-p", "say hi", "-m", "gemini-2.5-flash", "--output-format", "json"], env, work)
        calls = api.model_calls()
    session = json.loads(out[out.index("{") :])["session_id"]
    check(
        service, session, "gemini_cli", "gemini-2.5-flash", calls, gemini_disjoint, [home / ".gemini" / "tmp"], "gemini"
    )


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))

"""End to end: ``cctelemetry run -- claude -p ...`` with the real Claude Code CLI, offline against the fake
Anthropic API. The run's telemetry goes to the service by itself (``run`` sets the variables: nothing in the
CLI's environment points it there), and the cost ``run`` prints equals the CLI's own ``total_cost_usd``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

CLI = str(Path(sys.executable).with_name("cctelemetry"))
PROMPT = "first turn say hi please"  # long enough for a session-title request as well: two Messages calls


def agent_env(fake_api, blackhole_proxy, home: Path) -> dict[str, str]:
    """What the CLI needs to run offline, and no telemetry setting: ``cctelemetry run`` adds those."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
        "ANTHROPIC_BASE_URL": fake_api.url, "ANTHROPIC_API_KEY": "sk-ant-test",
        "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
        "HTTPS_PROXY": blackhole_proxy, "HTTP_PROXY": blackhole_proxy, "https_proxy": blackhole_proxy,
        "http_proxy": blackhole_proxy, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    }  # fmt: skip


def test_run_prints_the_cost_the_cli_reports(claude_bin, fake_api, service, blackhole_proxy, tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = agent_env(fake_api, blackhole_proxy, home)
    started = time.monotonic()
    out = subprocess.run(
        [CLI, "run", "--api-url", service.api_url, "--agent-type", "e2e", "--attr", "suite=real-claude-code", "--json",
         "--", str(claude_bin), "-p", PROMPT, "--model", "claude-sonnet-4-5", "--output-format", "json"],
        env=env, cwd=work, capture_output=True, text=True, timeout=150, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert out.returncode == 0, f"stdout: {out.stdout}\nstderr: {out.stderr}\n{service.log_tail()}"
    assert out.stderr == "", out.stderr
    decoder = json.JSONDecoder()
    cli, end = decoder.raw_decode(out.stdout)  # the CLI's own output first, passed through
    ours, _ = decoder.raw_decode(out.stdout[end:].lstrip())
    assert cli["is_error"] is False and cli["subtype"] == "success", cli
    calls = fake_api.message_calls()
    assert len(calls) == 2, [(c.model, c.json_schema) for c in calls]  # the answer and the session title

    assert ours["exit_code"] == 0 and ours["complete"] is True, ours
    assert ours["session_ids"] == [cli["session_id"]], ours
    assert ours["requests"] == len(calls)
    assert ours["cost_usd"] == pytest.approx(cli["total_cost_usd"], abs=1e-9, rel=0), (ours, cli["total_cost_usd"])
    assert ours["reported_cost_usd"] == pytest.approx(cli["total_cost_usd"], abs=1e-9, rel=0)
    usage = cli["modelUsage"]
    assert ours["input_tokens"] == sum(m["inputTokens"] for m in usage.values())
    assert ours["output_tokens"] == sum(m["outputTokens"] for m in usage.values())
    assert ours["cache_read_tokens"] == sum(m["cacheReadInputTokens"] for m in usage.values())
    assert ours["cache_creation_tokens"] == sum(m["cacheCreationInputTokens"] for m in usage.values())
    # the attributes are on the rows, and the run waited for the export, not for its bound
    status, body = service.get_json(
        f"/api/v1/usage?group_by=agent_type,attr.suite&attr.cctelemetry.run_id={ours['run_id']}"
    )
    assert status == 200 and [(r["agent_type"], r["attr.suite"], r["requests"]) for r in body["rows"]] == [
        ("e2e", "real-claude-code", len(calls))]  # fmt: skip
    assert ours["waited_seconds"] < 10, ours
    print(
        f"cctelemetry run -- claude -p: {elapsed:.1f} s in all, {ours['waited_seconds']:.1f} s waiting for the export"
    )

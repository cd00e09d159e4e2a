"""docs/ci.md's GitHub Actions recipe, run locally: its shell steps (start the service, run Claude Code through
``cctelemetry run``, stop the service) with bash as a runner runs them, the real Claude Code against the fake
Anthropic API, and ``GITHUB_STEP_SUMMARY`` a file whose table must hold the run's cost."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "docs" / "ci.md"
STEPS_RUN = ("Start cctelemetry", "Run Claude Code, with its cost", "Stop cctelemetry")


def workflow() -> dict:
    text = RECIPE.read_text()
    block = re.search(r"<!-- ci-recipe -->\n```yaml\n(.*?)\n```", text, re.S).group(1)
    return yaml.safe_load(block)


def expand(value: str, context: dict[str, str]) -> str:
    """GitHub's ``${{ expr }}``: the runner fills them in before the shell sees the script."""
    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: context[m.group(1)], value)


def test_the_recipe_writes_the_cost_table(claude_bin, fake_api, blackhole_proxy, tmp_path):
    job = workflow()["jobs"]["claude"]
    steps = {s.get("name"): s for s in job["steps"]}
    assert set(STEPS_RUN) <= set(steps) and all("run" in steps[name] for name in STEPS_RUN)
    runner_temp, summary = tmp_path / "runner-temp", tmp_path / "step-summary.md"
    runner_temp.mkdir()
    summary.write_text("")
    context = {"runner.temp": str(runner_temp), "secrets.ANTHROPIC_API_KEY": "sk-ant-test"}
    bin_dirs = [str(Path(sys.executable).parent), str(claude_bin.parent)]
    env = {
        "PATH": os.pathsep.join(bin_dirs + [os.environ.get("PATH", "/usr/bin:/bin")]),
        "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8", "RUNNER_TEMP": str(runner_temp),
        "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKFLOW": "agent-cost", "GITHUB_RUN_ID": "4242",
        # the runner's network: the fake API, and no way out
        "ANTHROPIC_BASE_URL": fake_api.url, "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
        "HTTPS_PROXY": blackhole_proxy, "HTTP_PROXY": blackhole_proxy, "NO_PROXY": "127.0.0.1,localhost",
    }  # fmt: skip
    env.update({k: expand(str(v), context) for k, v in job["env"].items()})
    # other engineers' tests run at the same time: free ports instead of the recipe's 8000 / 4318
    env.update(CCTELEMETRY_API_PORT=str(free_port()), CCTELEMETRY_OTLP_PORT=str(free_port()))
    pid_file = runner_temp / "cctelemetry.pid"
    try:
        for name in STEPS_RUN:
            step = steps[name]
            step_env = {**env, **{k: expand(str(v), context) for k, v in (step.get("env") or {}).items()}}
            out = subprocess.run(["bash", "-e", "-c", expand(step["run"], context)], env=step_env, capture_output=True,
                                 text=True, timeout=180, cwd=tmp_path)  # fmt: skip
            assert out.returncode == 0, f"step {name!r}: {out.stdout}\n{out.stderr}\n{_log(runner_temp)}"
    finally:
        _stop(pid_file)

    result = json.loads((runner_temp / "claude-result.json").read_text())
    assert result["is_error"] is False, result
    calls = fake_api.message_calls()
    text = summary.read_text()
    assert text.startswith("### cctelemetry run `claude -p Summarise what this repository does"), text
    total = re.search(
        r"^\| \*\*total\*\* \| (\d+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d.]+) \|$", text, re.M
    )
    assert total, text
    requests, inp, out_, read, write = (int(g.replace(",", "")) for g in total.groups()[:5])
    usage = result["modelUsage"]
    assert requests == len(calls) == 2
    assert inp == sum(m["inputTokens"] for m in usage.values())
    assert out_ == sum(m["outputTokens"] for m in usage.values())
    assert read == sum(m["cacheReadInputTokens"] for m in usage.values())
    assert write == sum(m["cacheCreationInputTokens"] for m in usage.values())
    assert total.group(6) == f"{result['total_cost_usd']:.6f}"
    assert f"`{result['session_id']}`" in text and "exit code 0" in text
    assert not pid_file.exists() or not _alive(int(pid_file.read_text()))  # the Stop step stopped it


def _log(runner_temp: Path) -> str:
    log = runner_temp / "cctelemetry.log"
    return log.read_text()[-3000:] if log.exists() else ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(pid_file: Path) -> None:
    """Whatever happened: the service the recipe started (its pid, recorded by the recipe) is stopped."""
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        if not _alive(pid):
            return
        import time

        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)

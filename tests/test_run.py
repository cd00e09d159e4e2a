"""``cctelemetry run`` (real processes: ``cctelemetry serve`` and the CLI) and ``Client.run``: the agent's
stdin, stdout, stderr and exit code pass through, its telemetry is tagged with the run id and the attributes,
and the run's requests, tokens and cost are printed after it (or appended to --summary-file); without a
service it says so in one line. (The real Claude Code: tests/e2e/test_run_real_claude_code.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cctelemetry.client import Client
from conftest import free_port

CLI = str(Path(sys.executable).with_name("cctelemetry"))
AGENT = [sys.executable, str(Path(__file__).parent / "support" / "fake_agent.py")]


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCTELEMETRY_", "OTEL_", "CLAUDE_CODE_"))}
    env.update(XDG_DATA_HOME=str(tmp / "xdg-data"), XDG_STATE_HOME=str(tmp / "xdg-state"), HOME=str(tmp / "home"),
               COLUMNS="100", **extra)  # fmt: skip
    return env


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run-service")
    data, port = tmp / "data", free_port()
    env = clean_env(tmp)
    with open(tmp / "service.log", "wb") as log:  # the child keeps its own copy of the file
        proc = subprocess.Popen([CLI, "serve", "--data-dir", str(data), "--api-port", str(port), "--otlp-port",
                                 str(free_port()), "--grpc-port", "0", "--metrics-port", "0"],
                                stdout=log, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if json.load(urllib.request.urlopen(url + "/healthz", timeout=2))["ok"]:
                break
        except OSError:
            time.sleep(0.2)
    assert proc.poll() is None, (tmp / "service.log").read_text()
    yield {"data": data, "url": url, "env": env, "tmp": tmp}
    proc.terminate()
    proc.wait(20)


def cctelemetry(*args: str, env: dict, stdin: str = "", timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, env=env, timeout=timeout)


def test_run_passes_everything_through_and_prints_the_cost(service):
    out = cctelemetry("run", "--data-dir", str(service["data"]), "--agent-type", "ci", "--attr", "ticket=ABC 1,2",
                      "--json", "--", *AGENT, "--request", "0.25", "--request", "0.5", "--exit", "3",
                      env=service["env"], stdin="hello agent\n")  # fmt: skip
    assert out.returncode == 3, out.stderr
    assert out.stderr == "fake agent: working\n"
    assert out.stdout.startswith("HELLO AGENT\n")
    result = json.loads(out.stdout[len("HELLO AGENT\n") :])
    assert result["requests"] == 2 and result["exit_code"] == 3 and result["complete"] is True
    assert result["cost_usd"] == pytest.approx(0.75) and result["reported_cost_usd"] == pytest.approx(0.75)
    assert (result["input_tokens"], result["output_tokens"]) == (2001, 200)
    assert len(result["session_ids"]) == 1 and result["attributes"]["ticket"] == "ABC 1,2"
    # the attributes reached the rows: the run id, agent.type and the value with a space and a comma
    client = Client(service["url"])
    by_attr = client.usage(group_by="attr.ticket,agent_type", filters={"attr.cctelemetry.run_id": result["run_id"]})
    assert [(r["attr.ticket"], r["agent_type"], r["requests"]) for r in by_attr["rows"]] == [("ABC 1,2", "ci", 2)]


def test_run_text_and_markdown_summaries(service, tmp_path):
    out = cctelemetry("run", "--data-dir", str(service["data"]), "--", *AGENT, "--request", "0.125", env=service["env"])
    assert out.returncode == 0
    assert "1 request(s), $0.1250" in out.stdout and "tokens: 1,000 input, 100 output" in out.stdout
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    out = cctelemetry("run", "--api-url", service["url"], "--markdown", "--summary-file", str(summary), "--",
                      *AGENT, "--request", "0.5", env=service["env"])  # fmt: skip
    assert out.returncode == 0 and out.stdout == ""
    text = summary.read_text()
    assert text.startswith("# earlier step\n### cctelemetry run `")
    assert "| claude-sonnet-4-5 | 1 | 1,000 | 100 | 0 | 0 | 0.500000 |" in text
    assert "| **total** | 1 | 1,000 | 100 | 0 | 0 | 0.500000 |" in text


def test_waits_for_an_export_that_comes_late(service):
    client = Client(service["url"])
    started = time.monotonic()
    result = client.run([*AGENT, "--request", "1.0", "--delay", "2"], capture_output=True, input=b"x")
    assert result["requests"] == 1 and result["cost_usd"] == pytest.approx(1.0) and result["stdout"] == b"X"
    assert time.monotonic() - started < 15


def test_without_a_service_it_says_so(tmp_path):
    env = clean_env(tmp_path)
    out = cctelemetry("run", "--", *AGENT, env=env)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "no cctelemetry service is running" in out.stderr
    out = cctelemetry("run", "--api-url", f"http://127.0.0.1:{free_port()}", "--", *AGENT, env=env)
    assert out.returncode == 1 and "does not answer" in out.stderr


def test_an_agent_that_sends_nothing_is_bounded(service):
    started = time.monotonic()
    out = cctelemetry("run", "--data-dir", str(service["data"]), "--wait", "2", "--json", "--", *AGENT,
                      env=service["env"])  # fmt: skip
    result = json.loads(out.stdout)
    assert out.returncode == 0 and result["requests"] == 0 and result["complete"] is False
    assert result["cost_usd"] is None and time.monotonic() - started < 30

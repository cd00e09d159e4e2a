"""Fixtures for the end-to-end test with the real Claude Code CLI.

Everything runs on 127.0.0.1: a fake Anthropic API (``fake_anthropic.py``, in this process), the
cctelemetry service (a ``cctelemetry serve`` subprocess) and the CLI itself, whose outbound
proxy points at a local port that refuses connections, so nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

# tests/e2e is not a package: make fake_anthropic importable whatever pytest's import mode is.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
from fake_anthropic import FakeAnthropic  # noqa: E402 - found through the sys.path entry above

REPO = Path(__file__).resolve().parents[2]
CLAUDE_CODE_VERSION = "2.1.197"
INSTALL_SCRIPT = REPO / "scripts" / "install-claude-code.sh"
CLAUDE_BIN = Path(os.environ.get("CLAUDE_CODE_PREFIX", REPO / ".tools" / "claude-code")) / "node_modules/.bin/claude"

HEALTH_TIMEOUT_S = 60  # the embedded engine needs a few seconds to start and migrate
CLI_TIMEOUT_S = 90

# Requests to the service must not go through any proxy the developer's shell may set.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get_json(url: str, timeout: float = 5.0, body: dict | None = None) -> tuple[int, object]:
    """GET, or POST ``body`` as JSON."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with _http.open(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the CLI ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """The pinned CLI, installed by scripts/install-claude-code.sh; skips when it cannot run."""
    try:
        out = subprocess.run(["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=1200)
        install_log = (out.stdout + out.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        install_log = f"install script did not finish: {exc!r}"
    if not CLAUDE_BIN.exists():
        pytest.skip(f"Claude Code {CLAUDE_CODE_VERSION} is not installed at {CLAUDE_BIN}: {install_log}")
    try:
        version = subprocess.run(
            [str(CLAUDE_BIN), "--version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"{CLAUDE_BIN} does not run: {exc!r}")
    if not version.startswith(CLAUDE_CODE_VERSION):
        pytest.skip(f"{CLAUDE_BIN} --version gave {version!r}, want {CLAUDE_CODE_VERSION}: {install_log}")
    return CLAUDE_BIN


@pytest.fixture(scope="session")
def blackhole_proxy() -> str:
    """A proxy URL whose port is bound but not listening: every connection to it is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # keeps the port ours for the whole session; no listen()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture
def fake_api() -> FakeAnthropic:
    with FakeAnthropic() as api:
        yield api


# -- the service -----------------------------------------------------------------------------------


@dataclass
class Service:
    proc: subprocess.Popen
    api_url: str
    otlp_url: str
    grpc_url: str
    log_path: Path

    def endpoint(self, protocol: str) -> str:
        """OTEL_EXPORTER_OTLP_ENDPOINT for a protocol: the gRPC port for grpc, the OTLP/HTTP port otherwise."""
        return self.grpc_url if protocol == "grpc" else self.otlp_url

    def get_json(self, path: str, timeout: float = 5.0) -> tuple[int, object]:
        return http_get_json(self.api_url + path, timeout=timeout)

    def sql(self, query: str) -> list[dict]:
        status, body = http_get_json(self.api_url + "/api/v1/sql", timeout=30, body={"query": query})
        assert status == 200, f"POST /api/v1/sql -> {status}: {body}"
        return body["rows"]

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no service log)"


def _cctelemetry_script() -> Path:
    return Path(sys.executable).with_name("cctelemetry")


@pytest.fixture(scope="session")
def service(tmp_path_factory) -> Service:
    """``cctelemetry serve`` on free ports with a fresh data folder; stopped after the session."""
    script = _cctelemetry_script()
    if not script.exists():
        pytest.fail(f"{script} not found: install the package (pip install -e service)")
    root = tmp_path_factory.mktemp("cctelemetry-e2e")
    api_port, otlp_port, grpc_port = free_port(), free_port(), free_port()
    log_path = root / "service.log"
    # Only our flags configure the service: drop settings from the environment (the parent conftest
    # points CCTELEMETRY_DATA_DIR at the unit tests' engine).
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    cmd = [
        str(script),
        "serve",
        "--data-dir",
        str(root / "data"),
        "--api-port",
        str(api_port),
        "--otlp-port",
        str(otlp_port),
        "--grpc-port",
        str(grpc_port),
        "--metrics-port",
        "0",
        "--host",
        "127.0.0.1",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    svc = Service(
        proc, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{otlp_port}", f"http://127.0.0.1:{grpc_port}", log_path
    )
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        last = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"cctelemetry serve exited with {proc.returncode}:\n{svc.log_tail()}")
            try:
                status, _ = http_get_json(svc.api_url + "/healthz", timeout=2)
                if status == 200:
                    break
                last = status
            except OSError as exc:
                last = exc
            time.sleep(0.2)
        else:
            pytest.fail(f"GET /healthz not 200 within {HEALTH_TIMEOUT_S} s (last: {last!r}):\n{svc.log_tail()}")
        yield svc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


# -- one CLI run -----------------------------------------------------------------------------------


@dataclass
class ClaudeRun:
    result: dict  # the --output-format json result
    elapsed_s: float
    stderr: str


@pytest.fixture
def run_claude(claude_bin, fake_api, service, blackhole_proxy, tmp_path):
    """``run_claude(prompt, protocol)``: one ``claude -p`` run against the fake API, OTLP to the service
    (``grpc`` to its OTLP/gRPC port, ``http/*`` to its OTLP/HTTP port)."""

    def run(
        prompt: str,
        protocol: str,
        model: str = "claude-sonnet-4-5",
        compression: str | None = None,
        env_overrides: dict[str, str | None] | None = None,
    ) -> ClaudeRun:
        """``env_overrides``: variables to set (None removes one), e.g. per-signal endpoints."""
        home, work = tmp_path / "home", tmp_path / "work"
        home.mkdir(exist_ok=True)
        work.mkdir(exist_ok=True)
        env = {
            # a clean environment: nothing from the developer's shell (API keys, OTEL_*, proxies) leaks in
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "ANTHROPIC_BASE_URL": fake_api.url,
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_EXPORTER_OTLP_ENDPOINT": service.endpoint(protocol),
            "OTEL_METRIC_EXPORT_INTERVAL": "1000",
            "OTEL_LOGS_EXPORT_INTERVAL": "1000",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "HTTPS_PROXY": blackhole_proxy,
            "HTTP_PROXY": blackhole_proxy,
            "https_proxy": blackhole_proxy,
            "http_proxy": blackhole_proxy,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        if compression:  # Claude Code's exporters send uncompressed unless told
            env["OTEL_EXPORTER_OTLP_COMPRESSION"] = compression
        for key, value in (env_overrides or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        cmd = [str(claude_bin), "-p", prompt, "--model", model, "--output-format", "json"]
        started = time.monotonic()
        proc = subprocess.run(
            cmd, env=env, cwd=work, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, stdin=subprocess.DEVNULL
        )
        elapsed = time.monotonic() - started
        assert proc.returncode == 0, f"claude exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
        try:
            result = json.loads(proc.stdout)
        except ValueError:
            pytest.fail(f"claude did not print a JSON result:\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
        return ClaudeRun(result, elapsed, proc.stderr)

    return run

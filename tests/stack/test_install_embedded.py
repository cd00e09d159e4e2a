"""install-telemetry.sh --embedded, for real against the working tree: installs (make install, a no-op
when .venv is current), starts `cctelemetry serve` in the background on free ports and a temporary data
folder, passes its own smoke check (one OTLP claude_code.api_request event in, seen in
/api/v1/usage?group_by=session), is idempotent, and --uninstall stops it and keeps the data."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from stack_support import free_ports

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "install-telemetry.sh"


def install(*args: str, timeout: int = 600, state: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    if state is not None:  # where the installer records what it started (never the user's own)
        env["XDG_STATE_HOME"] = str(state)
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=timeout)  # fmt: skip


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(900)
def test_install_embedded_smoke_and_uninstall(tmp_path):
    data = tmp_path / "data"
    api_port, otlp_port, grpc_port, metrics_port = free_ports(4)
    args = ["--embedded", "--data-dir", str(data), "--port-api", str(api_port), "--port-otlp", str(otlp_port),
            "--port-grpc", str(grpc_port), "--port-metrics", str(metrics_port)]  # fmt: skip
    pidfile = data / "cctelemetry.pid"
    state = tmp_path / "state"
    try:
        out = install(*args, state=state)
        assert out.returncode == 0, f"stdout:\n{out.stdout}\nstderr:\n{out.stderr}"
        assert "smoke check passed" in out.stdout
        assert f"http://127.0.0.1:{api_port}" in out.stdout
        assert "source " in out.stdout and "setup-telemetry.sh" in out.stdout
        assert f"OTLP/gRPC       : http://127.0.0.1:{grpc_port}" in out.stdout
        assert f"OTLP/gRPC :{grpc_port}" in out.stdout  # the start line
        assert f"CCTELEMETRY_OTLP_ENDPOINT=http://127.0.0.1:{grpc_port} source" in out.stdout
        assert "setup-telemetry.sh --protocol grpc" in out.stdout
        assert (
            f"Prometheus      : http://127.0.0.1:{api_port}/metrics and http://127.0.0.1:{metrics_port}/metrics"
            in out.stdout
        )
        scraped = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
        # the smoke event went through the receiver (counted) but is a self-test: no spend anywhere
        assert "cctelemetry_ingest_requests_total" in scraped and "claude_code_cost_usage_USD_total" not in scraped
        pid = int(pidfile.read_text())
        assert alive(pid)

        health = json.load(urllib.request.urlopen(f"http://127.0.0.1:{api_port}/healthz", timeout=5))
        assert health["ok"] is True
        assert str(data) in health["store"]
        usage = json.load(urllib.request.urlopen(
            f"http://127.0.0.1:{api_port}/api/v1/usage?group_by=session", timeout=10))  # fmt: skip
        assert usage["totals"]["requests"] == 0  # the smoke check leaves nothing in the reports

        record = json.loads((state / "cctelemetry" / "install.json").read_text())
        assert record["mode"] == "embedded" and record["data_dir"] == str(data) and record["pid"] == pid
        assert json.loads((data / "service.json").read_text())["api_url"] == f"http://127.0.0.1:{api_port}"

        again = install(*args, state=state)  # idempotent: same process, a second smoke session
        assert again.returncode == 0, again.stderr
        assert f"already running (pid {pid})" in again.stdout
        assert int(pidfile.read_text()) == pid

        # --uninstall finds the service the installer started with --data-dir without being told the folder
        down = install("--uninstall", "--embedded", timeout=120, state=state)
        assert down.returncode == 0, down.stderr
        assert "stopped" in down.stdout
        assert str(data) in down.stdout  # says where the data stays
        deadline = time.monotonic() + 15
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(pid)
        assert not pidfile.exists()
        assert not (data / "service.json").exists()
        assert not (state / "cctelemetry" / "install.json").exists()
        assert (data / "cctelemetry.log").exists()
    finally:
        if pidfile.exists():
            pid = int(pidfile.read_text() or 0)
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("busy_option", ["--port-api", "--port-grpc", "--port-metrics"])
def test_install_refuses_a_busy_port(tmp_path, busy_option):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = dict(zip(["--port-api", "--port-otlp", "--port-grpc", "--port-metrics"], free_ports(4), strict=True),
                     **{busy_option: port})  # fmt: skip
        args = [a for option, p in ports.items() for a in (option, str(p))]
        out = install("--embedded", "--data-dir", str(tmp_path / "d"), *args, timeout=300, state=tmp_path / "state")
    assert out.returncode != 0
    assert f"port {port}" in out.stderr and "already in use" in out.stderr and "--port-grpc" in out.stderr
    assert not (tmp_path / "d" / "cctelemetry.pid").exists()


def test_install_rejects_bad_options():
    out = install("--port-api", "eighty")
    assert out.returncode != 0 and "not a number" in out.stderr
    out = install("--port-grpc", "-1")
    assert out.returncode != 0 and "not a number" in out.stderr
    out = install("--frobnicate")
    assert out.returncode != 0 and "unknown option" in out.stderr

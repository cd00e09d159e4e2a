"""install-telemetry.sh's Docker branch, driven through a stand-in `docker` command (no engine needed):
it must pick the stack when `docker info` answers, write .env with random passwords once and never
overwrite it, run `docker compose up -d --build` on the repository's compose file, wait for health, pass
the smoke check through the OTLP port, and `--uninstall` must run `docker compose down` keeping volumes.

The stand-in's `compose up` starts the embedded service on the ports compose would publish (it speaks
the same OTLP/HTTP and API), so the script's waiting and smoke logic run for real."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from stack_support import free_ports

REPO = Path(__file__).resolve().parents[2]
CCTELEMETRY = REPO / ".venv" / "bin" / "cctelemetry"

FAKE_DOCKER = r"""#!/usr/bin/env bash
# Stand-in for the docker CLI: logs every call, fakes a healthy compose project.
echo "docker $*" >> "$FAKE_STATE/calls.log"
args=" $* "
case "$1" in
  info) exit 0 ;;
  inspect) echo healthy; exit 0 ;;
esac
if [ "$1" = compose ]; then
  case "$args" in
    *" version "*) echo "Docker Compose version v2.99.0"; exit 0 ;;
    *" up "*)
      mkdir -p "$FAKE_STATE/data"
      "$FAKE_CCTELEMETRY" serve --data-dir "$FAKE_STATE/data" --api-port "${CCT_PORT_API:-8000}" \
          --otlp-port "${CCT_PORT_OTLP_HTTP:-4318}" --grpc-port 0 --metrics-port 0 > "$FAKE_STATE/serve.log" 2>&1 &
      echo $! > "$FAKE_STATE/pid"
      exit 0 ;;
    *" ps "*)
      if [ -f "$FAKE_STATE/pid" ]; then echo fakecontainerid; fi
      exit 0 ;;
    *" down "*)
      if [ -f "$FAKE_STATE/pid" ]; then kill "$(cat "$FAKE_STATE/pid")"; rm -f "$FAKE_STATE/pid"; fi
      exit 0 ;;
    *" logs "*) echo "(fake logs)"; exit 0 ;;
  esac
fi
echo "fake docker: unexpected call: $*" >&2
exit 3
"""


@pytest.fixture
def sandbox(tmp_path):
    """A copy of the files the installer's Docker branch uses, and a PATH whose `docker` is fake."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("install-telemetry.sh", "setup-telemetry.sh", "docker-compose.yml", ".env.example"):
        shutil.copy2(REPO / name, root / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    state = tmp_path / "state"
    state.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCTELEMETRY_", "CCT_PORT_"))}
    env.update(
        PATH=f"{bin_dir}:{env['PATH']}",
        FAKE_STATE=str(state),
        FAKE_CCTELEMETRY=str(CCTELEMETRY),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
    )  # --uninstall also looks for an embedded service there
    yield root, state, env
    pidfile = state / "pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text()), signal.SIGKILL)


def run(root: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(root / "install-telemetry.sh"), *args], capture_output=True, text=True, env=env,
                          cwd=root, timeout=300)  # fmt: skip


@pytest.mark.skipif(not CCTELEMETRY.exists(), reason="needs the project's .venv (make install)")
@pytest.mark.timeout(600)
def test_docker_branch_end_to_end(sandbox):
    root, state, env = sandbox
    api_port, otlp_port = free_ports(2)
    out = run(root, env, "--port-api", str(api_port), "--port-otlp", str(otlp_port), "--timeout", "60")
    assert out.returncode == 0, f"stdout:\n{out.stdout}\nstderr:\n{out.stderr}\nserve log:\n" + (
        (state / "serve.log").read_text() if (state / "serve.log").exists() else ""
    )
    assert "a Docker engine answers: installing the stack" in out.stdout
    assert "smoke check passed" in out.stdout
    assert f"API             : http://127.0.0.1:{api_port}" in out.stdout
    assert "source " in out.stdout

    calls = (state / "calls.log").read_text()
    assert f"docker compose --project-directory {root} -f {root}/docker-compose.yml up -d --build" in calls

    env_file = root / ".env"
    text = env_file.read_text()
    writer = re.search(r"^CLICKHOUSE_WRITER_PASSWORD=([0-9a-f]{48})$", text, re.M)
    reader = re.search(r"^CLICKHOUSE_READER_PASSWORD=([0-9a-f]{48})$", text, re.M)
    assert writer and reader and writer.group(1) != reader.group(1)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600

    # again: .env is kept as is, the stack is brought up again (compose is idempotent) and re-checked
    run(root, env, "--uninstall")
    again = run(root, env, "--port-api", str(api_port), "--port-otlp", str(otlp_port), "--timeout", "60")
    assert again.returncode == 0, again.stderr
    assert "using the existing" in again.stdout
    assert env_file.read_text() == text

    down = run(root, env, "--uninstall")
    assert down.returncode == 0, down.stderr
    assert (
        f"docker compose --project-directory {root} -f {root}/docker-compose.yml down"
        in (state / "calls.log").read_text()
    )
    assert "cctelemetry_clickhouse-data" in down.stdout and "down -v" in down.stdout
    assert not (state / "pid").exists()


def test_incomplete_env_file_is_not_overwritten(sandbox):
    root, state, env = sandbox
    (root / ".env").write_text("CLICKHOUSE_WRITER_PASSWORD=abc\n")
    out = run(root, env, "--docker", "--no-smoke", "--timeout", "5")
    assert out.returncode != 0
    assert "lacks: CLICKHOUSE_READER_PASSWORD" in out.stderr
    assert (root / ".env").read_text() == "CLICKHOUSE_WRITER_PASSWORD=abc\n"
    assert not (state / "calls.log").exists() or " up " not in (state / "calls.log").read_text()


def test_docker_forced_without_engine_says_what_is_missing(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text("#!/bin/sh\nexit 1\n")
    docker.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    out = subprocess.run([str(REPO / "install-telemetry.sh"), "--docker"], capture_output=True, text=True, env=env,
                         timeout=60)  # fmt: skip
    assert out.returncode != 0
    assert "no Docker engine answers" in out.stderr and "Compose v2 plugin is missing" in out.stderr
    assert "--embedded" in out.stderr

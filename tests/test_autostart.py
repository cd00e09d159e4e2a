"""``./install-telemetry.sh --autostart``: the systemd user unit and the LaunchAgent plist it writes, rendered
and validated (``systemd-analyze verify --user`` where it exists, ``plistlib``), and for real: written and
enabled by ``--autostart``, removed by ``--uninstall``. No service manager is reachable from these tests
(their own runtime folder, no session bus), so nothing is ever enabled in the machine's own manager."""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import free_port

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "install-telemetry.sh"
PROGRAM = str(REPO / ".venv" / "bin" / "cctelemetry")


def script(tmp: Path, *args: str, kind: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CCTELEMETRY_") and k not in ("DBUS_SESSION_BUS_ADDRESS", "XDG_CONFIG_HOME")
    }
    runtime = tmp / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.update(HOME=str(tmp / "home"), XDG_STATE_HOME=str(tmp / "state"), XDG_RUNTIME_DIR=str(runtime))
    if kind:
        env["CCT_AUTOSTART_KIND"] = kind
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout)


def test_systemd_unit_is_valid(tmp_path):
    data = tmp_path / "my data %d"  # a space and a systemd specifier character
    data.mkdir()
    out = script(tmp_path, "--print-autostart", "systemd", "--data-dir", str(data), "--port-api", "8123",
                 "--port-otlp", "4319", "--port-grpc", "0")  # fmt: skip
    assert out.returncode == 0, out.stderr
    unit = out.stdout
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert shlex.split(exec_start.removeprefix("ExecStart=").replace("%%", "%")) == [
        PROGRAM, "serve", "--data-dir", str(data), "--api-port", "8123", "--otlp-port", "4319", "--grpc-port", "0",
        "--host", "127.0.0.1"]  # fmt: skip
    assert "WantedBy=default.target" in unit and "Restart=on-failure" in unit
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here: checked the rendering only")
    path = tmp_path / "cctelemetry.service"
    path.write_text(unit)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    check = subprocess.run(["systemd-analyze", "verify", "--user", str(path)], capture_output=True, text=True,
                           env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)}, timeout=60)  # fmt: skip
    assert check.returncode == 0 and check.stderr == "", check.stderr  # systemd warns, with status 0, on a bad line


def test_launchd_plist_is_valid(tmp_path):
    data = tmp_path / "data & <more>"
    out = script(tmp_path, "--print-autostart", "launchd", "--data-dir", str(data), "--port-api", "8123")
    assert out.returncode == 0, out.stderr
    plist = plistlib.loads(out.stdout.encode())
    assert plist["Label"] == "dev.cctelemetry.serve"
    assert plist["ProgramArguments"] == [
        PROGRAM,
        "serve",
        "--data-dir",
        str(data),
        "--api-port",
        "8123",
        "--otlp-port",
        "4318",
        "--grpc-port",
        "4317",
        "--host",
        "127.0.0.1",
    ]
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["WorkingDirectory"] == str(data) and plist["StandardOutPath"] == f"{data}/cctelemetry.log"
    assert plist["EnvironmentVariables"] == {"CCTELEMETRY_CLICKHOUSE_URL": ""}
    if shutil.which("plutil"):
        path = tmp_path / "p.plist"
        path.write_text(out.stdout)
        assert subprocess.run(["plutil", "-lint", str(path)], capture_output=True, timeout=30).returncode == 0


def test_an_unknown_kind_is_an_error(tmp_path):
    out = script(tmp_path, "--print-autostart", "cron", "--data-dir", str(tmp_path))
    assert out.returncode != 0 and "unknown autostart kind cron" in out.stderr


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.skipif(sys.platform == "darwin", reason="would talk to this Mac's own launchd")
@pytest.mark.parametrize("kind", ["systemd", "launchd"])
def test_autostart_is_written_and_uninstall_removes_it(tmp_path, kind):
    data = tmp_path / "data"
    args = ["--data-dir", str(data), "--port-api", str(free_port()), "--port-otlp", str(free_port()),
            "--port-grpc", "0"]  # fmt: skip
    if kind == "systemd":
        unit = tmp_path / "home" / ".config" / "systemd" / "user" / "cctelemetry.service"
        wants = unit.parent / "default.target.wants" / "cctelemetry.service"
    else:
        unit = tmp_path / "home" / "Library" / "LaunchAgents" / "dev.cctelemetry.serve.plist"
        wants = None
    try:
        out = script(tmp_path, "--autostart", "--no-smoke", *args, kind=kind)
        assert out.returncode == 0, f"{out.stdout}\n{out.stderr}"
        assert unit.exists() and f"autostart: wrote {unit}" in out.stderr
        assert "starts with the next login" in out.stderr  # no manager here: it runs now as a background process
        if wants is not None:
            assert wants.is_symlink() and wants.resolve() == unit.resolve()  # what `systemctl --user enable` makes
        assert str(data) in unit.read_text()
        assert (data / "service.json").exists()
    finally:
        out = script(tmp_path, "--uninstall", *args, kind=kind)
    assert out.returncode == 0, out.stderr
    assert f"autostart: removed {unit}" in out.stdout and "stopped." in out.stdout
    assert not unit.exists() and (wants is None or not wants.exists())

"""``setup-telemetry.sh --statusline``: Claude Code's settings.json gets ``cctelemetry statusline`` as its
statusline, a statusline command that was there keeps running (its line above ours), other keys are kept, and
``--no-statusline`` puts back exactly what was there (with ``--persist`` in the same call: both, undone apart)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "setup-telemetry.sh"
PROGRAM = str(Path(sys.executable).with_name("cctelemetry"))


def run(tmp: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCTELEMETRY_", "CLAUDE_", "OTEL_"))}
    env.update({"HOME": str(tmp / "home"), "CLAUDE_CONFIG_DIR": str(tmp / "claude"),
                "CCTELEMETRY_STATUSLINE_COMMAND": f"{PROGRAM} statusline", **extra})  # fmt: skip
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60)


def settings(tmp: Path) -> dict:
    return json.loads((tmp / "claude" / "settings.json").read_text())


def statusline_output(command: str, stdin: dict) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    env.update(NO_COLOR="1", CCTELEMETRY_API_URL="http://127.0.0.1:9")  # nothing listens: the input alone
    return subprocess.run(["sh", "-c", command], input=json.dumps(stdin), capture_output=True, text=True,
                          env=env, timeout=30).stdout  # fmt: skip


def test_installs_and_removes_without_a_previous_statusline(tmp_path):
    (tmp_path / "claude").mkdir()
    (tmp_path / "claude" / "settings.json").write_text(json.dumps({"theme": "dark"}))
    out = run(tmp_path, "--statusline")
    assert out.returncode == 0, out.stderr
    line = settings(tmp_path)["statusLine"]
    assert line == {"type": "command", "command": f"{PROGRAM} statusline", "padding": 0}
    assert settings(tmp_path)["theme"] == "dark"
    assert statusline_output(line["command"], {"model": {"display_name": "Opus"}, "cost": {"total_cost_usd": 1.5}}) \
        == "Opus │ $1.50 session\n"  # fmt: skip
    assert run(tmp_path, "--no-statusline").returncode == 0
    assert settings(tmp_path) == {"theme": "dark"}
    assert not (tmp_path / "claude" / ".cctelemetry-statusline.json").exists()
    assert "nothing to undo" in run(tmp_path, "--no-statusline").stdout


def test_a_previous_statusline_keeps_running_and_comes_back(tmp_path):
    (tmp_path / "claude").mkdir()
    mine = {"type": "command", "command": "cat >/dev/null; printf 'my line\\n'", "padding": 2}
    (tmp_path / "claude" / "settings.json").write_text(json.dumps({"statusLine": mine, "model": "opus"}))
    assert run(tmp_path, "--statusline").returncode == 0
    assert run(tmp_path, "--statusline").returncode == 0  # twice: still one wrapping, the same undo
    line = settings(tmp_path)["statusLine"]
    assert line["padding"] == 2 and line["command"].count("--then") == 1
    assert statusline_output(line["command"], {"model": {"display_name": "Opus"}}) == "my line\nOpus\n"
    assert run(tmp_path, "--no-statusline").returncode == 0
    assert settings(tmp_path) == {"statusLine": mine, "model": "opus"}


def test_with_persist_in_one_call_and_undone_apart(tmp_path):
    out = run(tmp_path, "--persist", "--statusline")
    assert out.returncode == 0, out.stderr
    both = settings(tmp_path)
    assert both["env"]["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1" and both["statusLine"]["command"].endswith("statusline")
    assert run(tmp_path, "--no-statusline").returncode == 0
    assert "statusLine" not in settings(tmp_path) and settings(tmp_path)["env"]["OTEL_LOGS_EXPORTER"] == "otlp"
    assert run(tmp_path, "--unpersist").returncode == 0
    assert not (tmp_path / "claude" / "settings.json").exists()  # it did not exist before


def test_a_statusline_changed_since_is_left_alone(tmp_path):
    assert run(tmp_path, "--statusline").returncode == 0
    data = settings(tmp_path)
    data["statusLine"] = {"type": "command", "command": "echo theirs"}
    (tmp_path / "claude" / "settings.json").write_text(json.dumps(data))
    out = run(tmp_path, "--no-statusline")
    assert out.returncode == 0 and "left the statusLine" in out.stdout
    assert settings(tmp_path)["statusLine"]["command"] == "echo theirs"


def test_the_default_program_is_this_checkouts(tmp_path):
    env_program = REPO / ".venv" / "bin" / "cctelemetry"
    out = run(tmp_path, "--statusline", CCTELEMETRY_STATUSLINE_COMMAND="")
    if not env_program.exists():
        return  # installed elsewhere: the PATH's cctelemetry is used (or an error says to install)
    assert out.returncode == 0, out.stderr
    assert settings(tmp_path)["statusLine"]["command"] == f"{env_program} statusline"

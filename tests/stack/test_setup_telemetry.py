"""setup-telemetry.sh: sourced in bash and zsh it exports Claude Code's variables; executed it
persists them into settings.json (and undoes that exactly), prints Codex/Gemini config, checks the
endpoint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

from stack_support import free_ports

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "setup-telemetry.sh"


EXPECTED = {
    "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
    "OTEL_METRICS_EXPORTER": "otlp",
    "OTEL_LOGS_EXPORTER": "otlp",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
    "OTEL_METRIC_EXPORT_INTERVAL": "30000",
    "OTEL_LOGS_EXPORT_INTERVAL": "5000",
    "OTEL_LOG_USER_PROMPTS": "0",
}
# setup-telemetry.sh names the machine (resource attribute host.name, the host dimension): `uname -n`, percent-encoded
HOST = "host.name=" + quote(os.uname().nodename, safe="._~-")
SHELLS = ["bash", pytest.param("zsh", marks=pytest.mark.skipif(not shutil.which("zsh"), reason="zsh not installed"))]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "CCTELEMETRY_", "CLAUDE_"))}
    env.update(HOME=str(home), **extra)
    return env


def sourced_env(shell: str, tmp_path: Path, args: str = "", **extra: str) -> dict[str, str]:
    """Source the script in `shell` (non-interactive, no rc files), then dump the environment."""
    flags = ["-f"] if shell == "zsh" else ["--noprofile", "--norc"]
    cmd = f"set -u; source {SCRIPT} {args} || exit 9; env -0"
    out = subprocess.run([shell, *flags, "-c", cmd], capture_output=True, env=clean_env(tmp_path, **extra),
                         cwd=tmp_path, timeout=30, check=True)  # fmt: skip
    pairs = [item.split("=", 1) for item in out.stdout.decode().split("\0") if "=" in item]
    return dict(pairs) | {"__stderr__": out.stderr.decode()}


@pytest.mark.parametrize("shell", SHELLS)
def test_sourced_exports_claude_code_variables(shell, tmp_path):
    env = sourced_env(shell, tmp_path)
    for key, value in EXPECTED.items():
        assert env.get(key) == value, f"{shell}: {key}={env.get(key)!r}"
    assert env["OTEL_RESOURCE_ATTRIBUTES"] == HOST
    assert "OTEL_EXPORTER_OTLP_HEADERS" not in env
    assert "Claude Code telemetry on" in env["__stderr__"]


@pytest.mark.parametrize("shell", SHELLS)
def test_sourced_overrides_and_resource_attributes(shell, tmp_path):
    env = sourced_env(
        shell, tmp_path, "--quiet",
        CCTELEMETRY_OTLP_ENDPOINT="http://collector.internal:14318/",
        CCTELEMETRY_TEAM="Data Eng, EU",
        CCTELEMETRY_AGENT_TYPE="claude-code",
        CCTELEMETRY_LOG_USER_PROMPTS="1",
        OTEL_RESOURCE_ATTRIBUTES="deployment.environment=dev,team=old",
    )  # fmt: skip
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector.internal:14318"
    assert env["OTEL_LOG_USER_PROMPTS"] == "1"
    assert env["OTEL_RESOURCE_ATTRIBUTES"] == (
        "deployment.environment=dev,team=Data%20Eng%2C%20EU,agent.type=claude-code," + HOST
    )
    assert env["__stderr__"] == ""


@pytest.mark.parametrize("shell", SHELLS)
def test_sourcing_leaves_no_helpers_behind(shell, tmp_path):
    flags = ["-f"] if shell == "zsh" else ["--noprofile", "--norc"]
    probe = "typeset -f _cct_main >/dev/null 2>&1 && echo LEFT || echo CLEAN"
    out = subprocess.run([shell, *flags, "-c", f"source {SCRIPT} --quiet; {probe}"], capture_output=True,
                         text=True, env=clean_env(tmp_path), timeout=30, check=True)  # fmt: skip
    assert out.stdout.strip() == "CLEAN"


def run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=clean_env(tmp_path, **extra),
                          cwd=tmp_path, timeout=60)  # fmt: skip


def test_executed_prints_without_changing_anything(tmp_path):
    out = run(tmp_path)
    assert out.returncode == 0, out.stderr
    assert "source ./setup-telemetry.sh" in out.stdout
    assert "export OTEL_EXPORTER_OTLP_PROTOCOL='http/protobuf'" in out.stdout
    assert "[otel]" in out.stdout and '"telemetry"' in out.stdout
    assert not (tmp_path / ".claude").exists()


def test_env_output_evals_to_the_same_variables(tmp_path):
    out = run(tmp_path, "--env", CCTELEMETRY_OTLP_ENDPOINT="http://h:1/'x")
    env = subprocess.run(["bash", "--norc", "-c", f"{out.stdout}\nenv -0"], capture_output=True,
                         env=clean_env(tmp_path), check=True).stdout.decode()  # fmt: skip
    got = dict(item.split("=", 1) for item in env.split("\0") if "=" in item)
    assert got["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://h:1/'x"
    assert got["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1"


def test_print_codex_and_gemini(tmp_path):
    codex = run(tmp_path, "--print-codex", CCTELEMETRY_OTLP_ENDPOINT="http://127.0.0.1:14318").stdout
    assert "[otel]" in codex
    assert 'endpoint = "http://127.0.0.1:14318/v1/logs"' in codex
    assert 'endpoint = "http://127.0.0.1:14318/v1/metrics"' in codex
    assert "log_user_prompt = false" in codex
    import tomllib

    parsed = tomllib.loads(codex)
    assert parsed["otel"]["exporter"]["otlp-http"]["protocol"] == "binary"

    gemini = run(tmp_path, "--print-gemini").stdout
    block = gemini[gemini.index("{") : gemini.index("\n}\n") + 2]
    telemetry = json.loads(block)["telemetry"]
    assert telemetry == {"enabled": True, "target": "local", "otlpEndpoint": "http://127.0.0.1:4318",
                         "otlpProtocol": "http", "logPrompts": False}  # fmt: skip


ORIGINAL = {
    "model": "opus",
    "env": {"FOO": "1", "OTEL_LOG_USER_PROMPTS": "1"},
    "permissions": {"allow": ["Bash(ls)"], "deny": []},
    "hooks": {},
}


def test_persist_round_trip_keeps_other_keys(tmp_path):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps(ORIGINAL, indent=4) + "\n")

    out = run(tmp_path, "--persist", CCTELEMETRY_TEAM="platform")
    assert out.returncode == 0, out.stderr
    data = json.loads(settings.read_text())
    assert {k: v for k, v in data.items() if k != "env"} == {k: v for k, v in ORIGINAL.items() if k != "env"}
    assert list(data) == list(ORIGINAL), "key order kept"
    assert data["env"]["FOO"] == "1"
    for key, value in EXPECTED.items():
        assert data["env"][key] == value
    assert data["env"]["OTEL_RESOURCE_ATTRIBUTES"] == "team=platform," + HOST
    backups = list(settings.parent.glob("settings.json.cctelemetry-backup-*"))
    assert backups and json.loads(backups[0].read_text()) == ORIGINAL

    # persisting again (without the team) is idempotent and drops what it no longer sets
    assert run(tmp_path, "--persist").returncode == 0
    assert json.loads(settings.read_text())["env"]["OTEL_RESOURCE_ATTRIBUTES"] == HOST

    out = run(tmp_path, "--unpersist")
    assert out.returncode == 0, out.stderr
    assert json.loads(settings.read_text()) == ORIGINAL
    assert list(json.loads(settings.read_text())) == list(ORIGINAL)
    assert not (settings.parent / ".cctelemetry-persist.json").exists()
    assert "nothing to undo" in run(tmp_path, "--unpersist").stdout


def test_persist_without_env_block_and_without_file(tmp_path):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"theme": "dark"}\n')
    assert run(tmp_path, "--persist").returncode == 0
    assert json.loads(settings.read_text())["env"]["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1"
    assert run(tmp_path, "--unpersist").returncode == 0
    assert json.loads(settings.read_text()) == {"theme": "dark"}

    other = tmp_path / "other"
    other.mkdir()
    cfg = other / "claude-config"
    assert run(other, "--persist", CLAUDE_CONFIG_DIR=str(cfg)).returncode == 0
    assert (cfg / "settings.json").is_file()
    assert run(other, "--unpersist", CLAUDE_CONFIG_DIR=str(cfg)).returncode == 0
    assert not (cfg / "settings.json").exists()


def test_unpersist_leaves_values_the_user_changed(tmp_path):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text("{}")
    run(tmp_path, "--persist")
    data = json.loads(settings.read_text())
    data["env"]["OTEL_METRIC_EXPORT_INTERVAL"] = "1000"
    settings.write_text(json.dumps(data))
    out = run(tmp_path, "--unpersist")
    assert "left OTEL_METRIC_EXPORT_INTERVAL alone" in out.stdout
    assert json.loads(settings.read_text()) == {"env": {"OTEL_METRIC_EXPORT_INTERVAL": "1000"}}


def test_persist_refuses_broken_settings(tmp_path):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text("{not json")
    out = run(tmp_path, "--persist")
    assert out.returncode != 0
    assert "left untouched" in out.stderr
    assert settings.read_text() == "{not json"


class _Otlp(BaseHTTPRequestHandler):
    status = 200

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        ok = self.path == "/v1/logs" and json.loads(body) == {"resourceLogs": []}
        self.send_response(self.status if ok else 404)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status,rc", [(200, 0), (415, 1)])
def test_check_posts_empty_otlp_logs(tmp_path, status, rc):
    handler = type("H", (_Otlp,), {"status": status})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = run(tmp_path, "--check", CCTELEMETRY_OTLP_ENDPOINT=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
    assert out.returncode == rc, out.stdout + out.stderr
    if rc == 0:
        assert "OK" in out.stdout


def test_check_reports_nothing_listening(tmp_path):
    (port,) = free_ports(1)
    out = run(tmp_path, "--check", CCTELEMETRY_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
    assert out.returncode == 1
    assert "nothing answers" in out.stderr


def test_unknown_option_fails(tmp_path):
    out = run(tmp_path, "--nope")
    assert out.returncode == 2
    assert "unknown option" in out.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_sourced_check_status_is_the_source_status(shell, tmp_path):
    (port,) = free_ports(1)
    flags = ["-f"] if shell == "zsh" else ["--noprofile", "--norc"]
    cmd = f'source {SCRIPT} --quiet --check; echo "rc=$? exported=$OTEL_EXPORTER_OTLP_ENDPOINT"'
    out = subprocess.run([shell, *flags, "-c", cmd], capture_output=True, text=True, timeout=30,
                         env=clean_env(tmp_path, CCTELEMETRY_OTLP_ENDPOINT=f"http://127.0.0.1:{port}"))  # fmt: skip
    assert out.stdout.strip() == f"rc=1 exported=http://127.0.0.1:{port}"
    assert "nothing answers" in out.stderr


# -- --protocol grpc -------------------------------------------------------------------------------

GRPC_EXPECTED = EXPECTED | {
    "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
}


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("args, extra", [("--protocol grpc", {}), ("--quiet --protocol=grpc", {}),
                                         ("", {"CCTELEMETRY_OTLP_PROTOCOL": "grpc"})])  # fmt: skip
def test_sourced_protocol_grpc_points_at_4317(shell, tmp_path, args, extra):
    env = sourced_env(shell, tmp_path, args, **extra)
    for key, value in GRPC_EXPECTED.items():
        assert env.get(key) == value, f"{shell} {args}: {key}={env.get(key)!r}"
    if "--quiet" not in args:
        assert "-> http://127.0.0.1:4317 (OTLP grpc)" in env["__stderr__"]


def test_protocol_grpc_keeps_an_explicit_endpoint(tmp_path):
    env = sourced_env("bash", tmp_path, "--protocol grpc", CCTELEMETRY_OTLP_ENDPOINT="http://collector:14317")
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:14317"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"


@pytest.mark.parametrize("args", [["--protocol", "thrift", "--env"], ["--env", "--protocol"]])
def test_unknown_or_missing_protocol_is_refused(tmp_path, args):
    out = run(tmp_path, *args)
    assert out.returncode == 2 and "unknown protocol" in out.stderr and out.stdout == ""
    sourced = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", f"source {SCRIPT} {' '.join(args[:2])}; echo rc=$?"],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        timeout=30,
    )
    assert "rc=2" in sourced.stdout and "unknown protocol" in sourced.stderr


def test_protocol_grpc_everywhere_it_prints(tmp_path):
    out = run(tmp_path, "--protocol", "grpc")
    assert out.returncode == 0, out.stderr
    assert "source ./setup-telemetry.sh --protocol grpc" in out.stdout
    assert "export OTEL_EXPORTER_OTLP_PROTOCOL='grpc'" in out.stdout
    import tomllib

    codex = run(tmp_path, "--print-codex", "--protocol", "grpc").stdout
    assert tomllib.loads(codex)["otel"]["exporter"] == {"otlp-grpc": {"endpoint": "http://127.0.0.1:4317"}}
    assert tomllib.loads(codex)["otel"]["metrics_exporter"] == {"otlp-grpc": {"endpoint": "http://127.0.0.1:4317"}}
    gemini = run(tmp_path, "--protocol=grpc", "--print-gemini").stdout
    telemetry = json.loads(gemini[gemini.index("{") : gemini.index("\n}\n") + 2])["telemetry"]
    assert (telemetry["otlpProtocol"], telemetry["otlpEndpoint"]) == ("grpc", "http://127.0.0.1:4317")
    assert "GEMINI_TELEMETRY_OTLP_PROTOCOL=grpc" in gemini


def test_persist_with_protocol_grpc(tmp_path):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text("{}")
    assert run(tmp_path, "--protocol", "grpc", "--persist").returncode == 0
    env = json.loads(settings.read_text())["env"]
    assert {k: env[k] for k in GRPC_EXPECTED} == GRPC_EXPECTED
    assert run(tmp_path, "--persist").returncode == 0  # back to the default protocol
    assert json.loads(settings.read_text())["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert run(tmp_path, "--unpersist").returncode == 0
    assert json.loads(settings.read_text()) == {}


def _curl_has_http2() -> bool:
    curl = shutil.which("curl")
    return bool(curl) and "http2" in subprocess.run([curl, "-V"], capture_output=True, text=True).stdout.lower()


def _path_without_curl(tmp_path: Path) -> str:
    """A PATH with the tools the script uses, curl left out: --check falls back to python3."""
    bin_dir = tmp_path / "bin-no-curl"
    bin_dir.mkdir(exist_ok=True)
    tools = {tool: shutil.which(tool) for tool in ("bash", "grep", "sed", "head", "tr", "cat", "env")}
    tools["python3"] = os.path.realpath(sys.executable)  # the interpreter itself, not a version manager's shim
    for tool, target in tools.items():
        if target and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(target)
    return str(bin_dir)


CHECKERS = [
    pytest.param("curl", marks=pytest.mark.skipif(not _curl_has_http2(), reason="no curl with HTTP/2")),
    "python3",
]


def check_grpc(tmp_path: Path, endpoint: str, checker: str) -> subprocess.CompletedProcess:
    extra = {"CCTELEMETRY_OTLP_ENDPOINT": endpoint}
    if checker == "python3":
        extra["PATH"] = _path_without_curl(tmp_path)
    return run(tmp_path, "--protocol", "grpc", "--check", **extra)


@pytest.fixture
def grpc_receiver(service_state):
    from cctelemetry.api.otlp_grpc import OtlpGrpcServer

    server = OtlpGrpcServer(service_state.writer, "127.0.0.1", 0, 1 << 20).start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop(0)


@pytest.fixture
def http_otlp():
    server = HTTPServer(("127.0.0.1", 0), _Otlp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.parametrize("checker", CHECKERS)
def test_check_grpc_calls_the_logs_service(tmp_path, grpc_receiver, checker):
    out = check_grpc(tmp_path, grpc_receiver, checker)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("cctelemetry: OK") and grpc_receiver in out.stdout
    if checker == "curl":
        assert "grpc-status 0" in out.stdout


@pytest.mark.parametrize("checker", CHECKERS)
def test_check_grpc_on_an_http_port_says_so(tmp_path, http_otlp, checker):
    out = check_grpc(tmp_path, http_otlp, checker)
    assert out.returncode == 1
    assert "does not answer gRPC" in out.stderr and "4317" in out.stderr


@pytest.mark.parametrize("checker", CHECKERS)
def test_check_grpc_with_nothing_listening(tmp_path, checker):
    (port,) = free_ports(1)
    out = check_grpc(tmp_path, f"http://127.0.0.1:{port}", checker)
    assert out.returncode == 1 and "nothing answers OTLP/gRPC" in out.stderr


@pytest.mark.skipif(not _curl_has_http2(), reason="no curl with HTTP/2")
def test_check_grpc_reports_a_refusal(tmp_path):
    from concurrent import futures

    import grpc

    def unavailable(body, context):
        context.abort(grpc.StatusCode.UNAVAILABLE, "store down")

    server = grpc.server(futures.ThreadPoolExecutor(1))
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        "opentelemetry.proto.collector.logs.v1.LogsService",
        {"Export": grpc.unary_unary_rpc_method_handler(unavailable)})])  # fmt: skip
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        out = check_grpc(tmp_path, f"http://127.0.0.1:{port}", "curl")
    finally:
        server.stop(0)
    assert out.returncode == 1 and "grpc-status 14 (store down)" in out.stderr


def test_http_check_on_the_grpc_port_points_at_protocol_grpc(tmp_path, grpc_receiver):
    out = run(tmp_path, "--check", CCTELEMETRY_OTLP_ENDPOINT=grpc_receiver)
    assert out.returncode == 1
    assert "does not answer HTTP" in out.stderr and "--protocol grpc" in out.stderr

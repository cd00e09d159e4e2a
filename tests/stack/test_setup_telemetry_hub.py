"""setup-telemetry.sh against a hub: ``--endpoint URL --token T`` point a machine's Claude Code at it (the token in
OTEL_EXPORTER_OTLP_HEADERS, percent-encoded as the OTel spec's W3C baggage format wants), and the machine is named
in resource attribute host.name, as ``cctelemetry import --to`` names it."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from test_setup_telemetry import HOST, SHELLS, run, sourced_env

HUB = "http://hub.example:4318"


@pytest.mark.parametrize("shell", SHELLS)
def test_endpoint_and_token_for_a_hub(shell, tmp_path):
    env = sourced_env(shell, tmp_path, f"--endpoint {HUB}/ --token 's3cret tok'")
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == HUB
    assert env["OTEL_EXPORTER_OTLP_HEADERS"] == "Authorization=Bearer%20s3cret%20tok"
    assert env["OTEL_RESOURCE_ATTRIBUTES"] == HOST
    assert "with a token" in env["__stderr__"] and "s3cret" not in env["__stderr__"]
    env = sourced_env(shell, tmp_path, f"--endpoint={HUB} --protocol=grpc", CCTELEMETRY_API_TOKEN="t0k")
    assert (env["OTEL_EXPORTER_OTLP_ENDPOINT"], env["OTEL_EXPORTER_OTLP_PROTOCOL"]) == (HUB, "grpc")
    assert env["OTEL_EXPORTER_OTLP_HEADERS"] == "Authorization=Bearer%20t0k"


@pytest.mark.parametrize("shell", SHELLS)
def test_the_machines_name(shell, tmp_path):
    assert "host.name=" + socket.gethostname().replace(" ", "%20") == HOST  # what `import --to` sends by default
    env = sourced_env(shell, tmp_path, "", CCTELEMETRY_HOST_NAME="Bob's laptop")
    assert env["OTEL_RESOURCE_ATTRIBUTES"] == "host.name=Bob%27s%20laptop"
    env = sourced_env(shell, tmp_path, "", OTEL_RESOURCE_ATTRIBUTES="host.name=mine,team=a")
    assert env["OTEL_RESOURCE_ATTRIBUTES"] == "host.name=mine,team=a"  # the caller's own name is kept
    env = sourced_env(shell, tmp_path, "", OTEL_RESOURCE_ATTRIBUTES="host.name=mine,team=a", CCTELEMETRY_HOST_NAME="b")
    assert env["OTEL_RESOURCE_ATTRIBUTES"] == "team=a,host.name=b"


def test_other_headers_are_kept_and_the_token_replaced(tmp_path):
    out = run(tmp_path, "--env", "--token", "new", OTEL_EXPORTER_OTLP_HEADERS="x-team=a,Authorization=Bearer%20old")
    assert "export OTEL_EXPORTER_OTLP_HEADERS='x-team=a,Authorization=Bearer%20new'" in out.stdout
    assert "OTEL_EXPORTER_OTLP_HEADERS" not in run(tmp_path, "--env").stdout


@pytest.mark.parametrize("args, says", [
    (["--endpoint", "hub.example:4318", "--env"], "--endpoint takes the OTLP base URL"),
    (["--env", "--endpoint"], "--endpoint takes the OTLP base URL"),
    (["--env", "--token"], "--token needs a value"),
    (["--token=", "--env"], "--token needs a value"),
])  # fmt: skip
def test_bad_endpoint_or_token(tmp_path, args, says):
    out = run(tmp_path, *args)
    assert out.returncode == 2 and says in out.stderr, out.stderr


def test_codex_block_carries_the_token(tmp_path):
    out = run(tmp_path, "--endpoint", HUB, "--token", "T", "--print-codex").stdout
    assert f'endpoint = "{HUB}/v1/logs", protocol = "binary", headers = {{ "authorization" = "Bearer T" }}' in out
    assert "headers" not in run(tmp_path, "--endpoint", HUB, "--print-codex").stdout


class _Hub(BaseHTTPRequestHandler):
    """An OTLP endpoint that wants Bearer t0k."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200 if self.headers.get("Authorization") == "Bearer t0k" else 401)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_check_sends_the_token(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        good = run(tmp_path, "--endpoint", url, "--token", "t0k", "--check")
        bad = run(tmp_path, "--endpoint", url, "--check")
    finally:
        server.shutdown()
    assert good.returncode == 0 and "OK" in good.stdout, good.stderr
    assert bad.returncode == 1 and "401" in bad.stderr

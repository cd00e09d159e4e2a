"""End to end: the real Claude Code CLI sends its telemetry to a service that needs a token, with the token in
``OTEL_EXPORTER_OTLP_HEADERS``, over OTLP/HTTP and OTLP/gRPC; without the header, or with a read-only token,
nothing it sends is stored (and Claude Code itself still answers).

This module's ``service`` fixture replaces the shared one: a ``cctelemetry serve`` with
``CCTELEMETRY_API_TOKEN``, ``CCTELEMETRY_READ_TOKENS`` and ``CCTELEMETRY_AUTH_HEADER`` set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import HEALTH_TIMEOUT_S, Service, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(200)]

TOKEN = "e2e-full-3c1d9a"
READ = "e2e-read-77b2e0"
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TokenService(Service):
    def get_json(self, path: str, timeout: float = 5.0) -> tuple[int, object]:
        request = urllib.request.Request(self.api_url + path, headers={"Authorization": f"Bearer {READ}"})
        try:
            with _http.open(request, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("cctelemetry-e2e-auth")
    api_port, otlp_port, grpc_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    env.update(CCTELEMETRY_API_TOKEN=TOKEN, CCTELEMETRY_READ_TOKENS=READ, CCTELEMETRY_AUTH_HEADER="x-api-key")
    log_path = root / "service.log"
    cmd = [
        str(Path(sys.executable).with_name("cctelemetry")),
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
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    svc = TokenService(proc, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{otlp_port}",
                       f"http://127.0.0.1:{grpc_port}", log_path)  # fmt: skip
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with _http.open(svc.api_url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        assert proc.poll() is None, svc.log_tail()
        yield svc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def session_requests(service, session_id: str, want: int, timeout_s: float = 20) -> int:
    """Requests the service holds for the session, polled (bounded) until ``want`` or the time is up."""
    deadline = time.monotonic() + timeout_s
    n = 0
    while time.monotonic() < deadline:
        status, body = service.get_json(f"/api/v1/usage?group_by=session&session={session_id}")
        assert status == 200, body
        n = sum(r["requests"] for r in body["rows"])
        if n >= want:
            break
        time.sleep(0.25)
    return n


@pytest.mark.parametrize("protocol, headers", [
    ("http/protobuf", f"Authorization=Bearer%20{TOKEN}"),  # URL-encoded, as the OTel spec writes it
    ("http/json", f"Authorization=Bearer {TOKEN}"),  # a plain space, as Claude Code's docs write it
    ("grpc", f"Authorization=Bearer%20{TOKEN}"),
    ("grpc", f"x-api-key={TOKEN}"),  # the configured header
])  # fmt: skip
def test_the_token_in_otel_exporter_otlp_headers_is_accepted(run_claude, fake_api, service, protocol, headers):
    run = run_claude("say hi", protocol, env_overrides={"OTEL_EXPORTER_OTLP_HEADERS": headers})
    session = run.result["session_id"]
    assert session_requests(service, session, 1) == 1  # "say hi" is one Messages call (no title request)


@pytest.mark.parametrize("headers", [None, f"Authorization=Bearer%20{READ}", "Authorization=Bearer%20wrong"])
@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_without_a_full_token_nothing_is_stored(run_claude, service, protocol, headers):
    run = run_claude("say hi", protocol, env_overrides={"OTEL_EXPORTER_OTLP_HEADERS": headers})
    assert run.result["session_id"]  # Claude Code answered all the same
    assert session_requests(service, run.result["session_id"], 1, timeout_s=6) == 0

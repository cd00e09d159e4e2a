"""Access: tokens on every route but /healthz, over OTLP/HTTP, OTLP/gRPC, the REST API, the dashboard's pages
and the CLI, against a real ``cctelemetry serve`` process; the refusal to listen on a network address
without a token; read-only tokens; CORS off by default; no token in the service's log."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import grpc
import pytest
from conftest import FIXTURES, free_port

from cctelemetry.config import Settings
from cctelemetry.security import Access, InsecureConfiguration, Tokens, check_bind, is_loopback

sys.path.insert(0, str(Path(__file__).parent / "support"))
from otlp_grpc_client import channel, export  # noqa: E402

CLI = str(Path(sys.executable).with_name("cctelemetry"))
TOKEN = "tok-full-7f3a9c2e"
READ = "tok-read-b81d44aa"
WRONG = "tok-wrong-000000"
LOGS_PB = (FIXTURES / "otlp" / "r04-protobuf" / "logs-001.pb").read_bytes()


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    env.update(HOME=str(tmp / "home"), XDG_DATA_HOME=str(tmp / "xdg"), COLUMNS="120", **extra)
    return env


# -- the token check --------------------------------------------------------------------------------


def test_tokens_from_settings_and_files(tmp_path):
    file = tmp_path / "token"
    file.write_text("# the service's token\nfrom-a-file\n")
    reads = tmp_path / "read"
    reads.write_text("r1\nr2\n")
    tokens = Tokens.from_settings(Settings(api_token_file=str(file), read_tokens="r0, ", read_tokens_file=str(reads)))
    assert [tokens.access(t) for t in ("from-a-file", "r0", "r2", "nope", "", None)] == [
        Access.WRITE, Access.READ, Access.READ, Access.NONE, Access.NONE, Access.NONE]  # fmt: skip
    assert "from-a-file" not in repr(tokens) and "from-a-file" not in repr(Settings(api_token="from-a-file"))
    with pytest.raises(InsecureConfiguration, match="CCTELEMETRY_API_TOKEN_FILE"):
        Tokens.from_settings(Settings(api_token_file=str(tmp_path / "missing")))
    assert Tokens.from_settings(Settings()).access(None) == Access.WRITE  # no token configured: nothing checked


def test_where_a_token_is_read_from():
    tokens = Tokens(write=("t",), header="x-api-key")
    assert tokens.token_from({"authorization": "Bearer t"}) == "t"
    assert tokens.token_from({"authorization": "bearer  t "}) == "t"
    assert tokens.token_from({"authorization": "Bearer%20t"}) == "t"  # an exporter that did not URL-decode
    assert tokens.token_from({"x-api-key": "t"}) == "t"
    assert tokens.token_from({"x-api-key": "Bearer t"}) == "t"
    assert tokens.token_from({"authorization": "Basic dDp0"}) is None
    assert tokens.token_from({}, cookie="t") == "t"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_token(host):
    assert is_loopback(host)
    check_bind(Settings(host=host))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.1.2.3", "192.168.1.5"])
def test_a_network_address_needs_a_token(host):
    assert not is_loopback(host)
    with pytest.raises(InsecureConfiguration, match="CCTELEMETRY_API_TOKEN"):
        check_bind(Settings(host=host))
    check_bind(Settings(host=host, api_token="t"))
    check_bind(Settings(host=host, allow_unauthenticated=True))


def test_serve_refuses_a_network_address_without_a_token(tmp_path):
    data = tmp_path / "data"
    out = subprocess.run([CLI, "serve", "--host", "0.0.0.0", "--data-dir", str(data), "--api-port", str(free_port()),
                          "--otlp-port", str(free_port()), "--grpc-port", "0", "--metrics-port", "0"], capture_output=True, text=True,
                         env=clean_env(tmp_path), timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert out.returncode == 1
    assert "CCTELEMETRY_API_TOKEN" in out.stderr and "0.0.0.0" in out.stderr and "Traceback" not in out.stderr
    assert not data.exists()  # refused before anything was opened


# -- a protected service ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secured")
    api_port, otlp_port, grpc_port = free_port(), free_port(), free_port()
    env = clean_env(tmp, CCTELEMETRY_API_TOKEN=TOKEN, CCTELEMETRY_READ_TOKENS=READ, CCTELEMETRY_AUTH_HEADER="x-api-key")
    log_path = tmp / "service.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([CLI, "serve", "--data-dir", str(tmp / "data"), "--api-port", str(api_port),
                                 "--otlp-port", str(otlp_port), "--grpc-port", str(grpc_port), "--metrics-port", "0"], stdout=log,
                                stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if request(api_port, "GET", "/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    assert proc.poll() is None, log_path.read_text()
    yield {"api": api_port, "otlp": otlp_port, "grpc": grpc_port, "log": log_path, "env": env, "tmp": tmp}
    proc.terminate()
    proc.wait(20)


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_otlp_http_needs_a_full_token(service):
    pb = {"Content-Type": "application/x-protobuf"}
    status, headers, body = request(service["otlp"], "POST", "/v1/logs", LOGS_PB, pb)
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    assert body[:2] == bytes([0x08, 16])  # google.rpc.Status, code UNAUTHENTICATED, in the client's encoding
    assert request(service["otlp"], "POST", "/v1/logs", LOGS_PB, {**pb, **bearer(WRONG)})[0] == 401
    assert request(service["otlp"], "POST", "/v1/logs", LOGS_PB, {**pb, **bearer(READ)})[0] == 403
    assert request(service["otlp"], "POST", "/v1/logs", LOGS_PB, {**pb, **bearer(TOKEN)})[0] == 200
    assert request(service["otlp"], "POST", "/v1/logs", LOGS_PB, {**pb, "x-api-key": TOKEN})[0] == 200
    status, _, body = request(service["otlp"], "POST", "/v1/metrics", b"{}",
                              {"Content-Type": "application/json", **bearer(READ)})  # fmt: skip
    assert status == 403 and json.loads(body)["code"] == 7  # PERMISSION_DENIED


def test_otlp_grpc_needs_a_full_token(service):
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    message = ExportLogsServiceRequest.FromString(LOGS_PB)
    with channel(service["grpc"]) as ch:
        stub_call = ch.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export",
                                   request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=lambda b: b)  # fmt: skip
        for metadata, code in (((), grpc.StatusCode.UNAUTHENTICATED),
                               ((("authorization", f"Bearer {WRONG}"),), grpc.StatusCode.UNAUTHENTICATED),
                               ((("authorization", f"Bearer {READ}"),), grpc.StatusCode.PERMISSION_DENIED)):  # fmt: skip
            with pytest.raises(grpc.RpcError) as e:
                stub_call(message, timeout=30, metadata=metadata)
            assert e.value.code() == code
        stub_call(message, timeout=30, metadata=(("authorization", f"Bearer {TOKEN}"),))
        stub_call(message, timeout=30, metadata=(("x-api-key", TOKEN),))
        with pytest.raises(grpc.RpcError):
            export(ch, "logs", message)  # the plain stub, without metadata


def test_the_api_needs_a_token_and_read_only_tokens_only_read(service):
    port = service["api"]
    assert request(port, "GET", "/healthz")[0] == 200  # the only open route
    for path in ("/api/v1/usage", "/api/v1/sessions", "/docs", "/openapi.json", "/", "/no/such/route"):
        status, headers, body = request(port, "GET", path)
        assert status == 401, path
        assert json.loads(body) == {"ok": False, "error": json.loads(body)["error"], "code": "unauthorized",
                                    "status": 401}  # fmt: skip
    assert request(port, "GET", "/api/v1/usage", headers=bearer(WRONG))[0] == 401
    assert request(port, "GET", "/api/v1/usage", headers=bearer(READ))[0] == 200
    assert request(port, "GET", "/api/v1/usage", headers={"x-api-key": READ})[0] == 200
    sql = json.dumps({"query": "SELECT 1 AS one"}).encode()
    ct = {"Content-Type": "application/json"}
    assert request(port, "POST", "/api/v1/sql", sql, {**ct, **bearer(READ)})[0] == 200
    status, _, body = request(port, "POST", "/api/v1/import", json.dumps({"paths": ["/nonexistent"]}).encode(),
                              {**ct, **bearer(READ)})  # fmt: skip
    assert status == 403 and json.loads(body)["code"] == "forbidden"
    assert request(port, "POST", "/api/v1/prices/reload", b"", bearer(READ))[0] == 403
    assert request(port, "POST", "/api/v1/prices/reload", b"", bearer(TOKEN))[0] == 200


def test_the_dashboard_gets_its_token_from_a_login_or_a_link(service):
    port = service["api"]
    status, headers, _ = request(port, "GET", "/?x=1", headers={"Accept": "text/html"})
    assert status == 303 and headers["location"] == "/login?next=%2F%3Fx%3D1"
    status, _, page = request(port, "GET", "/login?next=/")
    assert status == 200 and b'name="token"' in page and b'type="password"' in page
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, _ = request(port, "POST", "/login", urllib.parse.urlencode({"token": WRONG, "next": "/"}).encode(), form)
    assert status == 401
    status, headers, _ = request(port, "POST", "/login", urllib.parse.urlencode(
        {"token": READ, "next": "//evil.example/"}).encode(), form)  # fmt: skip
    assert status == 303 and headers["location"] == "/"  # never another site
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"cctelemetry_token={READ};") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    # the page's own API calls carry the cookie
    assert request(port, "GET", "/api/v1/usage", headers={"Cookie": f"cctelemetry_token={READ}"})[0] == 200
    # a link with the token: remembered, then the same address without it
    status, headers, _ = request(port, "GET", f"/api/v1/usage?group_by=model&token={READ}")
    assert status == 303 and headers["location"] == "/api/v1/usage?group_by=model"
    assert headers["set-cookie"].startswith(f"cctelemetry_token={READ};")
    status, headers, _ = request(port, "GET", f"/?token={WRONG}")
    assert status == 303 and headers["location"].startswith("/login?") and "set-cookie" not in headers
    status, headers, _ = request(port, "GET", "/logout")
    assert status == 303 and 'cctelemetry_token=""' in headers["set-cookie"]


def test_cors_is_off_by_default(service):
    status, headers, _ = request(service["api"], "OPTIONS", "/api/v1/usage", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})  # fmt: skip
    assert "access-control-allow-origin" not in headers
    _, headers, _ = request(service["api"], "GET", "/api/v1/usage", headers={"Origin": "https://elsewhere.example",
                                                                             **bearer(READ)})  # fmt: skip
    assert "access-control-allow-origin" not in headers


def test_cors_when_origins_are_configured(store, settings):
    from fastapi.testclient import TestClient

    from cctelemetry.api.app import create_app
    from conftest import make_state

    state = make_state(store, settings.model_copy(update={"cors_origins": "https://dash.example"}))
    try:
        with TestClient(create_app(state.settings, state)) as c:
            r = c.options("/api/v1/usage", headers={"Origin": "https://dash.example",
                                                    "Access-Control-Request-Method": "GET"})  # fmt: skip
            assert r.headers["access-control-allow-origin"] == "https://dash.example"
            r = c.get("/api/v1/usage", headers={"Origin": "https://other.example"})
            assert "access-control-allow-origin" not in r.headers
    finally:
        state.writer.close()


def test_the_cli_sends_the_configured_token(service):
    url = f"http://127.0.0.1:{service['api']}"
    out = subprocess.run([CLI, "usage", "--json", "--api-url", url], capture_output=True, text=True,
                         env=clean_env(service["tmp"]), timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert out.returncode == 1 and "token is required" in out.stderr and "Traceback" not in out.stderr
    for env in ({"CCTELEMETRY_API_TOKEN": TOKEN}, {"CCTELEMETRY_READ_TOKENS": READ}):
        out = subprocess.run([CLI, "usage", "--json", "--api-url", url], capture_output=True, text=True,
                             env=clean_env(service["tmp"], **env), timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["totals"]["requests"] >= 1


def test_no_token_in_the_log(service):
    # every test above sent right and wrong tokens; the log must hold none of them
    request(service["api"], "GET", "/api/v1/usage?token=" + WRONG)
    log = service["log"].read_text(errors="replace")
    assert log.strip()  # the service did log (start, requests)
    for secret in (TOKEN, READ, WRONG):
        assert secret not in log

"""The whole Docker stack, for real (testcontainers' DockerCompose): ClickHouse + migrate + otelcol-contrib
+ the API. OTLP/JSON goes in through the collector; the usage report, the Prometheus endpoint and
ClickHouse (as the read-only user) must show it.

Skips, saying why, when no Docker engine (or no `docker compose` plugin) answers. Runs under its own
compose project name and ports, so it never touches a stack someone has running, and removes its
volumes afterwards.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from cctelemetry.store.migrate import load_migrations

REPO = Path(__file__).resolve().parents[2]


def docker_unavailable() -> str | None:
    if not shutil.which("docker"):
        return "the docker CLI is not installed"
    try:
        if subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode != 0:
            return "no Docker engine answers (`docker info` failed)"
        if subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode != 0:
            return "the docker compose v2 plugin is missing"
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    return None


_REASON = docker_unavailable()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=f"Docker stack test: {_REASON}")


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 10):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def wait_for(what: str, check, seconds: float, compose=None):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(2)
    logs = ""
    if compose is not None:
        out, err = compose.get_logs()
        logs = (out + err)[-6000:]
    pytest.fail(f"timed out after {seconds}s waiting for {what}\n{logs}")


def attr(key, value):
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def api_request_logs(session: str) -> dict:
    now = time.time_ns()
    records = []
    for i, (inp, out, cost) in enumerate([(100, 20, "0.5"), (300, 40, "0.25")]):
        records.append({
            "timeUnixNano": str(now + i), "observedTimeUnixNano": str(now + i),
            "body": {"stringValue": "claude_code.api_request"},
            "attributes": [attr("event.name", "api_request"), attr("session.id", session),
                           attr("event.sequence", i + 1), attr("model", "claude-sonnet-4-5"),
                           attr("request_id", f"req_{uuid.uuid4().hex}"), attr("input_tokens", str(inp)),
                           attr("output_tokens", str(out)), attr("cache_read_tokens", "0"),
                           attr("cache_creation_tokens", "0"), attr("cost_usd", cost)],
        })  # fmt: skip
    return {"resourceLogs": [{
        "resource": {"attributes": [attr("service.name", "claude-code")]},
        "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events"}, "logRecords": records}],
    }]}  # fmt: skip


def token_metrics(session: str) -> dict:
    now = time.time_ns()
    return {"resourceMetrics": [{
        "resource": {"attributes": [attr("service.name", "claude-code"), attr("team", "stack-test")]},
        "scopeMetrics": [{"scope": {"name": "com.anthropic.claude_code"}, "metrics": [{
            "name": "claude_code.token.usage", "unit": "tokens",
            "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": [{
                "startTimeUnixNano": str(now - 60_000_000_000), "timeUnixNano": str(now), "asDouble": 400.0,
                "attributes": [attr("type", "input"), attr("model", "claude-sonnet-4-5"), attr("session.id", session)],
            }]},
        }]}],
    }]}  # fmt: skip


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    DockerCompose = pytest.importorskip("testcontainers.compose", reason="pip install testcontainers").DockerCompose
    import socket

    ports = {}

    for name in ("API", "OTLP_GRPC", "OTLP_HTTP", "PROMETHEUS", "CLICKHOUSE_HTTP", "CLICKHOUSE_TCP"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports[name] = s.getsockname()[1]
    env_file = tmp_path_factory.mktemp("stack") / ".env"
    passwords = {
        "CLICKHOUSE_WRITER_PASSWORD": secrets.token_hex(16),
        "CLICKHOUSE_READER_PASSWORD": secrets.token_hex(16),
    }
    lines = [f"{k}={v}" for k, v in passwords.items()] + [f"CCT_PORT_{k}={v}" for k, v in ports.items()]
    env_file.write_text("\n".join(lines) + "\n")

    mp = pytest.MonkeyPatch()
    mp.setenv("COMPOSE_PROJECT_NAME", f"cctelemetry-test-{uuid.uuid4().hex[:8]}")
    compose = DockerCompose(context=str(REPO), compose_file_name="docker-compose.yml", build=True, wait=False,
                            env_file=str(env_file))  # fmt: skip
    compose.start()
    try:
        base = {k: f"http://127.0.0.1:{v}" for k, v in ports.items()}
        wait_for("the API /healthz", lambda: http("GET", base["API"] + "/healthz")[0] == 200, 300, compose)
        wait_for("the collector's OTLP/HTTP receiver",
                 lambda: http("POST", base["OTLP_HTTP"] + "/v1/logs", b'{"resourceLogs":[]}',
                              {"Content-Type": "application/json"})[0] == 200, 180, compose)  # fmt: skip
        yield {"compose": compose, "base": base, "passwords": passwords}
    finally:
        compose.stop(down=True)  # down --volumes
        mp.undo()


def clickhouse(stack, sql: str, user: str = "reader") -> tuple[int, str]:
    password = stack["passwords"].get(f"CLICKHOUSE_{user.upper()}_PASSWORD", "")
    query = urllib.parse.urlencode({"user": user, "password": password, "database": "otel"})
    status, body = http("POST", f"{stack['base']['CLICKHOUSE_HTTP']}/?{query}", sql.encode())
    return status, body.decode(errors="replace")


def test_migrations_applied_are_the_repositorys(stack):
    status, body = clickhouse(stack, "SELECT version FROM schema_migrations ORDER BY version FORMAT JSONEachRow")
    assert status == 200, body
    applied = [json.loads(line)["version"] for line in body.splitlines()]
    assert applied == [m.version for m in load_migrations(REPO / "migrations")]


def test_logs_through_the_collector_reach_the_usage_report(stack):
    session = f"stack-test-{uuid.uuid4().hex[:10]}"
    status, body = http("POST", stack["base"]["OTLP_HTTP"] + "/v1/logs", json.dumps(api_request_logs(session)).encode(),
                        {"Content-Type": "application/json"})  # fmt: skip
    assert status == 200, body
    url = stack["base"]["API"] + "/api/v1/usage?" + urllib.parse.urlencode({"group_by": "session", "session": session})

    def totals():
        code, raw = http("GET", url)
        if code != 200:
            return None
        report = json.loads(raw)
        return report if (report["totals"].get("requests") or 0) >= 2 else None

    report = wait_for("the two requests in the usage report", totals, 90, stack["compose"])
    assert report["totals"]["requests"] == 2
    assert report["totals"]["input_tokens"] == 400
    assert report["totals"]["output_tokens"] == 60
    assert report["totals"]["cost_usd"] == pytest.approx(0.75)
    assert [r["session"] for r in report["rows"]] == [session]

    status, body = clickhouse(stack, f"SELECT count() FROM otel_logs WHERE LogAttributes['session.id'] = '{session}'")
    assert status == 200 and body.strip() == "2", body


def test_metrics_reach_clickhouse_and_prometheus(stack):
    session = f"stack-test-{uuid.uuid4().hex[:10]}"
    status, body = http("POST", stack["base"]["OTLP_HTTP"] + "/v1/metrics", json.dumps(token_metrics(session)).encode(),
                        {"Content-Type": "application/json"})  # fmt: skip
    assert status == 200, body

    def scraped():
        code, raw = http("GET", stack["base"]["PROMETHEUS"] + "/metrics")
        text = raw.decode(errors="replace")
        lines = [
            ln for ln in text.splitlines() if ln.startswith("claude_code_token_usage_tokens_total{") and session in ln
        ]
        return lines or None

    lines = wait_for("claude_code_token_usage_tokens_total on :8889", scraped, 60, stack["compose"])
    assert 'type="input"' in lines[0] and 'team="stack-test"' in lines[0]

    def stored():
        code, text = clickhouse(
            stack,
            "SELECT sum(Value) FROM otel_metrics_sum WHERE MetricName = "
            f"'claude_code.token.usage' AND Attributes['session.id'] = '{session}'",
        )
        return text.strip() == "400" or None

    wait_for("the data point in otel_metrics_sum", stored, 60, stack["compose"])


def test_clickhouse_users(stack):
    status, body = clickhouse(stack, "INSERT INTO otel_logs (Body) VALUES ('x')")
    assert status != 200 and ("readonly" in body.lower() or "not enough privileges" in body.lower()), body
    status, body = clickhouse(stack, "SELECT 1", user="default")
    assert status != 200, "user default must not be reachable over the network"
    status, body = clickhouse(stack, "SELECT 1 SETTINGS max_execution_time = 100000")
    assert status != 200, "the read-only profile's time limit cannot be raised"

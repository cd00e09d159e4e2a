"""End to end: the real Claude Code CLI, offline, reports its cost and tokens through cctelemetry.

For each run the fake Anthropic API records what usage it returned on every Messages call; the
CLI prints its own ``total_cost_usd``; the service, fed only by the CLI's OTLP export, must report
the same session with the same request count, token sums and cost, whichever protocol the CLI
exports with: http/json and http/protobuf to the OTLP/HTTP port, grpc to the OTLP/gRPC port.

The long prompt makes the CLI ask for a session title (a second Messages call, with
``output_config.format=json_schema``). Transcripts leave that call out; OpenTelemetry and
``total_cost_usd`` count it, so the service must too.
"""

from __future__ import annotations

import re
import time

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

REPORT_TIMEOUT_S = 20
COST_TOLERANCE = 1e-9
SHORT_PROMPT = "say hi"  # too short for a session title: one Messages call
LONG_PROMPT = "first turn say hi please"  # > 17 characters: a title request as well

TOKEN_FIELDS = {  # service measure -> Anthropic usage field
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_read_tokens": "cache_read_input_tokens",
    "cache_creation_tokens": "cache_creation_input_tokens",
}


def wait_for_session(service, session_id: str, want_requests: int, timeout_s: float = REPORT_TIMEOUT_S) -> dict | None:
    """Poll the usage report (bounded) until the session has all its requests; return its last row."""
    row = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, body = service.get_json("/api/v1/usage?group_by=session")
        assert status == 200, f"GET /api/v1/usage?group_by=session -> {status}: {body}\n{service.log_tail()}"
        row = next((r for r in body["rows"] if r.get("session") == session_id), None)
        if row is not None and row.get("requests", 0) >= want_requests:
            return row
        time.sleep(0.25)
    return row


@pytest.mark.parametrize("protocol", ["http/json", "http/protobuf", "grpc"])
@pytest.mark.parametrize(
    "prompt, title_request",
    [(SHORT_PROMPT, False), (LONG_PROMPT, True)],
    ids=["short-prompt", "long-prompt-with-title"],
)
def test_session_cost_and_tokens_match_the_cli(run_claude, fake_api, service, prompt, title_request, protocol):
    assert_session_matches_the_cli(run_claude(prompt, protocol), fake_api, service, title_request)


def test_grpc_with_gzip_and_its_metrics(run_claude, fake_api, service):
    """OTEL_EXPORTER_OTLP_COMPRESSION=gzip: Claude Code's gRPC exporter sends grpc-encoding gzip; its
    metrics (MetricsService) arrive too: claude_code.cost.usage adds up to the CLI's total."""
    run = run_claude(LONG_PROMPT, "grpc", compression="gzip")
    assert_session_matches_the_cli(run, fake_api, service, True)
    session = run.result["session_id"]
    assert re.fullmatch(r"[0-9a-f-]{36}", session), session
    cost = f"SELECT sum(Value) AS usd FROM otel_metrics_sum WHERE MetricName = 'claude_code.cost.usage' " \
           f"AND Attributes['session.id'] = '{session}'"  # fmt: skip
    deadline, usd = time.monotonic() + REPORT_TIMEOUT_S, None
    while time.monotonic() < deadline:
        usd = service.sql(cost)[0]["usd"]
        if usd and abs(usd - run.result["total_cost_usd"]) <= COST_TOLERANCE:
            break
        time.sleep(0.25)
    assert usd == pytest.approx(run.result["total_cost_usd"], abs=COST_TOLERANCE, rel=0)


GRPC_ENDPOINT_FORMS = {  # what Claude Code 2.1.197 accepts for grpc (docs/otlp-grpc.md)
    "localhost": lambda url: {"OTEL_EXPORTER_OTLP_ENDPOINT": url.replace("127.0.0.1", "localhost")},
    "a-path-is-ignored": lambda url: {"OTEL_EXPORTER_OTLP_ENDPOINT": url + "/v1/logs"},
    "per-signal-variables": lambda url: {
        "OTEL_EXPORTER_OTLP_PROTOCOL": None,
        "OTEL_EXPORTER_OTLP_ENDPOINT": None,
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": url,
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": url,
    },  # fmt: skip
}


@pytest.mark.parametrize("form", sorted(GRPC_ENDPOINT_FORMS))
def test_grpc_endpoint_forms(run_claude, fake_api, service, form):
    run = run_claude(SHORT_PROMPT, "grpc", env_overrides=GRPC_ENDPOINT_FORMS[form](service.grpc_url))
    assert_session_matches_the_cli(run, fake_api, service, False)


@pytest.mark.parametrize("endpoint, error", [
    ("{host_port}", "TLS"),  # no scheme: TLS, and an IP address cannot be a TLS server name
    ("{otlp_url}", "NGHTTP2_FRAME_SIZE_ERROR"),  # gRPC to the OTLP/HTTP port
], ids=["no-scheme", "grpc-to-the-http-port"])  # fmt: skip
def test_grpc_misconfigured_exports_nothing_and_diag_says_why(run_claude, service, endpoint, error):
    url = endpoint.format(host_port=service.grpc_url.removeprefix("http://"), otlp_url=service.otlp_url)
    run = run_claude(SHORT_PROMPT, "grpc", env_overrides={"OTEL_EXPORTER_OTLP_ENDPOINT": url,
                                                          "CLAUDE_CODE_OTEL_DIAG_STDERR": "1"})  # fmt: skip
    assert error in run.stderr, run.stderr[-2000:]
    assert wait_for_session(service, run.result["session_id"], 1, timeout_s=2) is None


def assert_session_matches_the_cli(run, fake_api, service, title_request: bool) -> None:
    result = run.result
    assert result.get("is_error") is False and result.get("subtype") == "success", result
    session_id = result["session_id"]
    cli_cost = result["total_cost_usd"]

    # What the fake API was asked and answered.
    calls = fake_api.message_calls()
    assert calls, f"the CLI made no Messages call; all calls: {fake_api.calls}"
    assert len({c.request_id for c in calls}) == len(calls)
    assert all(c.headers.get("x-claude-code-session-id") == session_id for c in calls), [
        c.headers.get("x-claude-code-session-id") for c in calls
    ]
    titles = [c for c in calls if c.json_schema]
    assert bool(titles) == title_request, [(c.model, c.stream, c.json_schema) for c in calls]
    expected = {measure: sum(c.usage[field] for c in calls) for measure, field in TOKEN_FIELDS.items()}

    # The CLI saw the same usage (so a mismatch below is the service's, not the CLI's).
    model_usage = result["modelUsage"]
    assert sum(m["inputTokens"] for m in model_usage.values()) == expected["input_tokens"], model_usage
    assert sum(m["outputTokens"] for m in model_usage.values()) == expected["output_tokens"], model_usage
    assert sum(m["cacheReadInputTokens"] for m in model_usage.values()) == expected["cache_read_tokens"]
    assert sum(m["cacheCreationInputTokens"] for m in model_usage.values()) == expected["cache_creation_tokens"]
    assert cli_cost > 0

    row = wait_for_session(service, session_id, len(calls))
    assert row is not None, (
        f"session {session_id} not in /api/v1/usage?group_by=session after {REPORT_TIMEOUT_S} s\n"
        f"{service.get_json('/api/v1/usage?group_by=session')}\n{service.log_tail()}"
    )
    context = f"row={row} expected={expected} calls={len(calls)} total_cost_usd={cli_cost}"
    assert row["requests"] == len(calls), context
    for measure, value in expected.items():
        assert row[measure] == value, f"{measure}: {context}"
    assert row["cost_usd"] == pytest.approx(cli_cost, abs=COST_TOLERANCE, rel=0), context
    assert row["reported_cost_usd"] == pytest.approx(cli_cost, abs=COST_TOLERANCE, rel=0), context
    # our own price book agrees with the client's pricing
    assert row["computed_cost_usd"] == pytest.approx(cli_cost, abs=COST_TOLERANCE, rel=0), context


@pytest.mark.parametrize("model", ["claude-haiku-4-5", "claude-opus-4-6"])
def test_other_models_are_priced_as_the_cli_prices_them(run_claude, fake_api, service, model):
    """Sonnet, Haiku and Opus have different rates: computed cost = the CLI's total_cost_usd for each."""
    run = run_claude(LONG_PROMPT, "http/protobuf", model=model)
    result = run.result
    assert result.get("is_error") is False, result
    calls = fake_api.message_calls()
    row = wait_for_session(service, result["session_id"], len(calls))
    assert row is not None and row["requests"] == len(calls), row
    status, body = service.get_json(f"/api/v1/usage?group_by=model&mode=calculate&session={result['session_id']}")
    assert status == 200 and body["unpriced_models"] == [], body
    assert body["totals"]["cost_usd"] == pytest.approx(result["total_cost_usd"], abs=COST_TOLERANCE, rel=0), body

"""GET /metrics: Prometheus counters from the store, parsed with prometheus_client's own parser and compared with
the API's reports after replaying every captured Claude Code run; the agents' own counters compared with the
captured OTLP points; the cardinality bound; the service's health."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cctelemetry.api.otlp_grpc import OtlpGrpcServer
from cctelemetry.api.service_metrics import GrpcStatusInterceptor
from cctelemetry.config import Settings
from cctelemetry.reports.metrics import AGENTS, prometheus_name
from conftest import api_client, fixture_bodies, make_state, new_database, open_store, post_fixtures
from request_copies import insert_copies
from support.otlp_grpc_client import channel, export_raw
from support.retime import as_dict

USAGE_LABELS = ("model", "user", "agent", "query_source", "project")
TOKEN_TYPES = {"input": "input_tokens", "output": "output_tokens", "cacheRead": "cache_read_tokens",
               "cacheCreation": "cache_creation_tokens"}  # fmt: skip


def scrape(client, **headers) -> dict:
    """family name (as the parser gives it: a counter without _total) -> family."""
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    return {f.name: f for f in text_string_to_metric_families(r.text)}


def series(family) -> dict[tuple, float]:
    """(sorted label items) -> value, for the samples that are the counter itself (not _created)."""
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples if s.name.endswith("_total")}


def sum_by(family, *labels) -> dict[tuple, float]:
    out: dict[tuple, float] = defaultdict(float)
    for s in family.samples:
        if s.name.endswith("_total"):
            out[tuple(s.labels[k] for k in labels)] += s.value
    return dict(out)


# -- names ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric,unit,name", [
    ("claude_code.token.usage", "tokens", "claude_code_token_usage_tokens"),
    ("claude_code.cost.usage", "USD", "claude_code_cost_usage_USD"),
    ("claude_code.active_time.total", "s", "claude_code_active_time_seconds"),
    ("claude_code.session.count", "", "claude_code_session_count"),
    ("claude_code.lines_of_code.count", "", "claude_code_lines_of_code_count"),
    ("claude_code.commit.count", "", "claude_code_commit_count"),
    ("claude_code.pull_request.count", "", "claude_code_pull_request_count"),
    ("claude_code.code_edit_tool.decision", "", "claude_code_code_edit_tool_decision"),
    ("claude_code.code_edit_tool.decision", "count", "claude_code_code_edit_tool_decision_count"),
    ("gemini_cli.token.usage", "", "gemini_cli_token_usage"),
    ("http.server.duration", "ms", "http_server_duration_milliseconds"),
    ("x.requests", "{request}", "x_requests"),
])  # fmt: skip
def test_names_follow_the_collectors_prometheus_exporter(metric, unit, name):
    """As otlptranslator names them (the collector adds _total to counters; prometheus_client does here)."""
    assert prometheus_name(metric, unit) == name


def test_exposition_carries_the_collectors_names(replayed_client):
    text = replayed_client.get("/metrics").text
    for line in ("# TYPE claude_code_token_usage_tokens_total counter",
                 "# TYPE claude_code_cost_usage_USD_total counter",
                 "# TYPE claude_code_session_count_total counter",
                 "# TYPE claude_code_lines_of_code_count_total counter",
                 "# TYPE claude_code_active_time_seconds_total counter",
                 "# TYPE claude_code_code_edit_tool_decision_total counter"):  # fmt: skip
        assert line in text


# -- usage counters = the usage report --------------------------------------------------------------------------


def test_token_cost_and_request_counters_equal_the_usage_totals(replayed_client):
    families = scrape(replayed_client)
    totals = replayed_client.get("/api/v1/usage").json()["totals"]
    assert totals["requests"] == 26  # every captured run, each request once
    tokens = sum_by(families["claude_code_token_usage_tokens"], "type")
    assert {t: tokens[(t,)] for t in TOKEN_TYPES} == {t: totals[m] for t, m in TOKEN_TYPES.items()}
    assert sum(series(families["claude_code_cost_usage_USD"]).values()) == pytest.approx(totals["cost_usd"], abs=1e-9)
    assert sum(series(families["cctelemetry_api_requests"]).values()) == totals["requests"]
    computed = sum(series(families["cctelemetry_computed_cost_USD"]).values())
    assert computed == pytest.approx(totals["computed_cost_usd"], abs=1e-9)


def test_each_series_is_a_row_of_the_usage_report(replayed_client):
    """A label set's value is exactly the usage report's row for the same dimensions (same SQL, same sums)."""
    families = scrape(replayed_client)
    rows = replayed_client.get("/api/v1/usage", params={"group_by": ",".join(USAGE_LABELS) + ",attr.team"}).json()[
        "rows"
    ]
    assert rows
    cost = series(families["claude_code_cost_usage_USD"])
    tokens = series(families["claude_code_token_usage_tokens"])
    requests = series(families["cctelemetry_api_requests"])
    assert len(cost) == len(rows) and len(tokens) == 4 * len(rows)
    for row in rows:
        labels = {k: row[k] for k in USAGE_LABELS} | {"team": row["attr.team"]}
        assert cost[tuple(sorted(labels.items()))] == row["cost_usd"]
        assert requests[tuple(sorted((labels | {"agent_product": "claude_code"}).items()))] == row["requests"]
        for token_type, measure in TOKEN_TYPES.items():
            assert tokens[tuple(sorted((labels | {"type": token_type}).items()))] == row[measure]


def test_cost_by_model_equals_the_usage_report_by_model(replayed_client):
    families = scrape(replayed_client)
    rows = replayed_client.get("/api/v1/usage", params={"group_by": "model"}).json()["rows"]
    by_model = sum_by(families["claude_code_cost_usage_USD"], "model")
    assert set(by_model) == {(r["model"],) for r in rows}
    for row in rows:
        assert by_model[(row["model"],)] == pytest.approx(row["cost_usd"], abs=1e-9)


# -- the agents' own counters = the captured OTLP points --------------------------------------------------------


def expected_counters() -> dict[tuple, float]:
    """From the captured bodies themselves: per series, delta points add up and a cumulative stream counts its
    largest value (per start time, to the second as the exporter's table keeps it). Keyed by
    (prometheus name, user, the counter's labels..., team)."""
    counters = {c.metric: c for agent in AGENTS for c in agent.counters}
    deltas: dict[tuple, float] = defaultdict(float)
    cumulative: dict[tuple, float] = {}
    for _, signal, body, ctype in fixture_bodies():
        if signal != "metrics":
            continue
        for rm in as_dict(signal, body, ctype).get("resourceMetrics", []):
            resource = {a["key"]: a["value"].get("stringValue", "") for a in rm["resource"].get("attributes", [])}
            for sm in rm.get("scopeMetrics", []):
                for metric in sm.get("metrics", []):
                    counter = counters.get(metric["name"])
                    if counter is None:
                        continue
                    temporality = metric["sum"].get("aggregationTemporality")
                    for point in metric["sum"]["dataPoints"]:
                        attrs = {a["key"]: a["value"].get("stringValue", "") for a in point.get("attributes", [])}
                        user = attrs.get("user.email") or attrs.get("user.id", "")
                        key = (
                            counter.name,
                            user,
                            *(attrs.get(k, "") for k in counter.labels),
                            resource.get("team", ""),
                        )
                        stream = json.dumps([resource, attrs], sort_keys=True)
                        value = point.get("asDouble", point.get("asInt", 0))
                        if temporality in (1, "AGGREGATION_TEMPORALITY_DELTA"):
                            deltas[key] += float(value)
                        else:
                            start = int(point["startTimeUnixNano"]) // 10**9
                            cumulative[(key, stream, start)] = max(
                                cumulative.get((key, stream, start), 0), float(value)
                            )
    for (key, _, _), value in cumulative.items():
        deltas[key] += value
    return dict(deltas)


def test_agent_counters_equal_the_captured_points(replayed_client):
    families = scrape(replayed_client)
    expected = expected_counters()
    assert expected, "the captures have Claude Code counters"
    got = {}
    for agent in AGENTS:
        for counter in agent.counters:
            family = families.get(counter.name)
            for s in family.samples if family else []:
                if s.name.endswith("_total"):
                    labels = s.labels
                    got[(counter.name, labels["user"], *(labels[k] for k in counter.labels), labels["team"])] = s.value
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key
    sessions = sum(v for k, v in got.items() if k[0] == "claude_code_session_count")
    assert sessions == 11  # eleven captured runs, one of them cumulative (counted by its largest value, 1)


# -- counters kept past the raw tables, retries counted once -----------------------------------------------------


def test_counters_count_a_retried_export_once_and_outlive_the_raw_tables(client, store):
    post_fixtures(client)
    before = client.get("/metrics").text
    post_fixtures(client)  # every export again, as a client retrying would
    again = scrape(client)
    store.command("TRUNCATE TABLE otel_metrics_sum")  # the raw table's 72 h TTL, now
    store.command("TRUNCATE TABLE otel_logs")
    after = scrape(client)
    first = {f.name: f for f in text_string_to_metric_families(before)}
    for name in ("claude_code_session_count", "claude_code_active_time_seconds", "claude_code_lines_of_code_count",
                 "claude_code_cost_usage_USD", "claude_code_token_usage_tokens",
                 "cctelemetry_api_requests"):  # fmt: skip
        assert series(again[name]) == series(first[name]) == series(after[name]), name


# -- labels and the cardinality bound ---------------------------------------------------------------------------


def state_with(store, database, **settings):
    return make_state(store, Settings(database=database, tz="UTC", write_flush_ms=5, **settings))


def test_cardinality_bound_folds_later_label_sets_into_other(store, database):
    with api_client(state_with(store, database, metrics_max_series=2)) as client:
        post_fixtures(client)
        families = scrape(client)
        totals = client.get("/api/v1/usage").json()["totals"]
        cost = families["claude_code_cost_usage_USD"]
        values = series(cost)
        assert len(values) == 2
        other = [k for k in values if dict(k)["model"] == "other"]
        assert (
            len(other) == 1
            and all(v == "other" for k, v in other[0] if k != "team")
            and dict(other[0])["team"] == "other"
        )
        assert sum(values.values()) == pytest.approx(totals["cost_usd"], abs=1e-9)
        tokens = sum_by(families["claude_code_token_usage_tokens"], "type")
        assert tokens[("cacheRead",)] == totals["cache_read_tokens"]
        assert len(series(families["claude_code_token_usage_tokens"])) == 2 * 4
        # the first label set seen keeps its own series: the earliest request's
        first = client.get("/api/v1/sessions", params={"order": "last_seen", "limit": 100}).json()["rows"][-1]
        kept = [dict(k) for k in values if dict(k)["model"] != "other"][0]
        assert kept["model"] in first["models"]
        sessions = series(families["claude_code_session_count"])
        assert len(sessions) <= 2 and sum(sessions.values()) == 11


def test_resource_attributes_become_labels(store, database):
    with api_client(state_with(store, database, metrics_attributes="team, agent.type,model")) as client:
        post_fixtures(client, "r05-resattrs")
        families = scrape(client)
        (labels,) = [dict(k) for k in series(families["claude_code_cost_usage_USD"]) if dict(k)["agent"] == "sdk"]
        assert labels["team"] == "platform" and labels["agent_type"] == "coordinator"
        assert "attr_model" in labels  # a resource attribute named like one of our labels gets a prefix


def test_another_agent_is_a_table_entry(store, database):
    """Requests of another agent (as the agents' ingestion writes them) get that agent's families."""
    columns = ["timestamp", "agent_product", "service_name", "session_id", "request_key", "user_id", "model", "agent",
               "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "source"]  # fmt: skip
    now = datetime.now(UTC)
    insert_copies(store, [[now, "gemini_cli", "gemini-cli", "g-1", "g-1:1", "u", "gemini-2.5-flash", "main",
                           1956, 310, 1500, 0, "otel"]], columns)  # fmt: skip
    with api_client(state_with(store, database)) as client:
        families = scrape(client)
        tokens = sum_by(families["gemini_cli_token_usage_tokens"], "type")
        assert tokens == {("input",): 1956, ("output",): 310, ("cacheRead",): 1500, ("cacheCreation",): 0}
        # 1956 x 0.30 + 310 x 2.50 + 1500 x 0.03 per million (the book's gemini-2.5-flash)
        (cost,) = series(families["gemini_cli_cost_usage_USD"]).values()
        assert cost == pytest.approx((1956 * 0.30 + 310 * 2.50 + 1500 * 0.03) / 1e6, abs=1e-12)
        assert "claude_code_token_usage_tokens" not in families


# -- the service's health ----------------------------------------------------------------------------------------


def sample(families, name, **labels) -> float:
    """The value of the sample ``name`` (or ``name_total``) with these labels, in any family; 0 when absent."""
    for family in families.values():
        for s in family.samples:
            if s.name in (name, name + "_total") and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_ingest_requests_rows_and_writes_are_counted(client, service_state):
    body = next(b for run, signal, b, ctype in fixture_bodies("r02-outfmt-json") if signal == "logs")
    assert client.post("/v1/logs", content=body, headers={"Content-Type": "application/json"}).status_code == 200
    assert (
        client.post("/v1/logs", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    )
    assert client.post("/v1/metrics", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    families = scrape(client)
    assert sample(families, "cctelemetry_ingest_requests", transport="http", signal="logs", status="200") == 1
    assert sample(families, "cctelemetry_ingest_requests", transport="http", signal="logs", status="400") == 1
    assert sample(families, "cctelemetry_ingest_requests", transport="http", signal="metrics", status="415") == 1
    rows = len(as_dict("logs", body, "application/json")["resourceLogs"][0]["scopeLogs"][0]["logRecords"])
    assert sample(families, "cctelemetry_ingest_rows", signal="logs", table="otel_logs", status="written") == rows
    assert sample(families, "cctelemetry_write_duration_seconds_count") >= 1
    assert sample(families, "cctelemetry_write_queue_rows") == 0
    assert sample(families, "cctelemetry_write_queue_capacity_rows") == service_state.writer.max_rows
    assert sample(families, "cctelemetry_metrics_store_up") == 1


def test_grpc_exports_are_counted_by_status(client, service_state):
    server = OtlpGrpcServer(service_state.writer, "127.0.0.1", 0, 1 << 20,
                            interceptors=[GrpcStatusInterceptor(service_state.metrics)]).start()  # fmt: skip
    try:
        ch = channel(server.port)
        body = next(b for run, signal, b, ctype in fixture_bodies("r04-protobuf") if signal == "logs")
        export_raw(ch, "logs", body)
        with pytest.raises(grpc.RpcError) as bad:
            export_raw(ch, "logs", b"\xff\xff not protobuf")
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        ch.close()
    finally:
        server.stop()
    families = scrape(client)
    assert sample(families, "cctelemetry_ingest_requests", transport="grpc", signal="logs", status="OK") == 1
    assert sample(families, "cctelemetry_ingest_requests", transport="grpc", signal="logs",
                  status="INVALID_ARGUMENT") == 1  # fmt: skip


def test_a_store_that_cannot_answer_leaves_the_health_metrics(engine_url):
    database = new_database()
    store = open_store(engine_url, database)
    with api_client(make_state(store, Settings(database=database, tz="UTC", write_flush_ms=5))) as client:
        store.command(f"DROP DATABASE `{database}`")
        r = client.get("/metrics")
        assert r.status_code == 200
        families = {f.name: f for f in text_string_to_metric_families(r.text)}
        assert sample(families, "cctelemetry_metrics_store_up") == 0
        assert "claude_code_cost_usage_USD" not in families
        # the failed scrape counted its error; the counter is read before the store is, so the next scrape has it
        families = scrape(client)
        assert sample(families, "cctelemetry_store_errors", operation="metrics", code="store_unavailable") >= 1


def test_openmetrics_when_asked(replayed_client):
    r = replayed_client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert r.headers["content-type"].startswith("application/openmetrics-text")
    assert r.text.rstrip().endswith("# EOF")
    assert "claude_code_cost_usage_USD_total{" in r.text

"""Tools, errors, activity and the session timeline, on the captured Claude Code (and Gemini CLI) runs.

Every expected number is read here from the captured bodies themselves (the JSON the CLI sent, or the
protobuf's JSON rendering), independently of the service's SQL: tool events and their attributes, metric
points with their temporality, spans with their parents. Error events are not in any capture (the fake
API never failed), so that test posts events built here as Claude Code documents them.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from cctelemetry.config import Settings
from conftest import DATA, FIXTURES, api_client, make_state, new_database, open_store, post_fixtures

GEMINI_TRACES = DATA / "gemini-cli-0.61.0" / "otlp" / "gemini01-p-json" / "traces-001.json"
R10 = "r10-full-traces-protobuf"
R10_SESSION = "8a0ff020-faf3-401e-a257-17ccc1f45658"


# -- reading the captures ----------------------------------------------------------------------------


def value(v: dict):
    """An OTLP JSON AnyValue as Python (ints may come as strings in the protobuf JSON rendering)."""
    ((kind, x),) = v.items() if v else (("none", None),)
    if kind == "intValue":
        return int(x)
    if kind == "arrayValue":
        return [value(i) for i in x.get("values", [])]
    return x


def attrs(items) -> dict:
    return {a["key"]: value(a["value"]) for a in items or []}


def bodies(signal: str, runs: tuple[str, ...] = ()):
    """Every captured body of ``signal`` as JSON: the .json as sent, or a protobuf's .pb.json rendering."""
    for path in sorted((FIXTURES / "otlp").glob(f"*/{signal}-*.json")):
        if path.name.endswith(".meta.json") or (runs and path.parent.name not in runs):
            continue
        yield path.parent.name, json.loads(path.read_text())


def log_records(runs=()):
    for run, body in bodies("logs", runs):
        for rl in body["resourceLogs"]:
            resource = attrs(rl["resource"].get("attributes"))
            for sl in rl["scopeLogs"]:
                for record in sl["logRecords"]:
                    yield run, resource, record, attrs(record["attributes"])


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (Excel PERCENTILE.INC, numpy's default)."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@pytest.fixture(scope="module")
def captured(engine_url):
    """Every capture posted once, into a database whose raw tables keep the captured spans and points (the
    default 72 h TTL would let ClickHouse drop rows stamped weeks ago)."""
    database = new_database()
    store = open_store(engine_url, database, raw_ttl_hours=24 * 365 * 10)
    with api_client(make_state(store, Settings(database=database, tz="UTC", write_flush_ms=5))) as client:
        post_fixtures(client)
        r = client.post("/v1/traces", content=GEMINI_TRACES.read_bytes(), headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text
        yield client
    store.command(f"DROP DATABASE IF EXISTS `{database}`")


# -- tools ---------------------------------------------------------------------------------------------


def expected_tools(sessions: set[str] | None = None) -> dict[str, dict]:
    tools: dict[str, dict] = defaultdict(lambda: {"calls": 0, "succeeded": 0, "failed": 0, "durations": [],
                                                  "accepted": 0, "rejected": 0, "input_bytes": 0,
                                                  "result_bytes": 0, "by_source": defaultdict(dict)})  # fmt: skip
    for _, _, _, a in log_records():
        if sessions is not None and a["session.id"] not in sessions:
            continue
        name = a.get("event.name")
        if name == "tool_result":
            t = tools[a["tool_name"]]
            t["calls"] += 1
            t["succeeded" if a["success"] == "true" else "failed"] += 1
            t["durations"].append(float(a["duration_ms"]))
            t["input_bytes"] += int(a["tool_input_size_bytes"])
            t["result_bytes"] += int(a["tool_result_size_bytes"])
        elif name == "tool_decision":
            t = tools[a["tool_name"]]
            t["accepted" if a["decision"] == "accept" else "rejected"] += 1
            by = t["by_source"][a["source"]]
            by[a["decision"]] = by.get(a["decision"], 0) + 1
    return tools


def check_tools(body: dict, expected: dict[str, dict]) -> None:
    assert {r["tool"] for r in body["rows"]} == set(expected)
    for row in body["rows"]:
        e = expected[row["tool"]]
        assert (row["calls"], row["succeeded"], row["failed"]) == (e["calls"], e["succeeded"], e["failed"])
        assert row["success_rate"] == (e["succeeded"] / e["calls"] if e["calls"] else None)
        assert row["p50_duration_ms"] == pytest.approx(quantile(e["durations"], 0.5), abs=1e-3)
        assert row["p95_duration_ms"] == pytest.approx(quantile(e["durations"], 0.95), abs=1e-3)
        assert (row["accepted"], row["rejected"]) == (e["accepted"], e["rejected"])
        assert row["decisions_by_source"] == e["by_source"]
        assert (row["input_bytes"], row["result_bytes"]) == (e["input_bytes"], e["result_bytes"])
    totals = body["totals"]
    assert totals["calls"] == sum(e["calls"] for e in expected.values())
    assert totals["rejected"] == sum(e["rejected"] for e in expected.values())
    durations = [d for e in expected.values() for d in e["durations"]]
    assert totals["p95_duration_ms"] == pytest.approx(quantile(durations, 0.95), abs=1e-3)


def test_tools(captured):
    expected = expected_tools()
    # what the captures hold: Bash allowed (r06, r10, r12) and refused by a rule (r07c), Write (r08), Agent (r09, r10)
    assert expected["Bash"]["rejected"] == 1 and expected["Write"]["calls"] == 1 and expected["Agent"]["calls"] == 2
    check_tools(captured.get("/api/v1/tools").json(), expected)


def test_tools_filters(captured):
    check_tools(captured.get("/api/v1/tools", params={"session": R10_SESSION}).json(), expected_tools({R10_SESSION}))
    # a tool call has no model: model= selects the calls of sessions that used the model
    haiku = {a["session.id"] for _, _, _, a in log_records()
             if a.get("event.name") == "api_request" and a["model"] == "claude-haiku-4-5"}  # fmt: skip
    check_tools(captured.get("/api/v1/tools", params={"model": "claude-haiku-4-5"}).json(), expected_tools(haiku))
    team = {a["session.id"] for _, resource, _, a in log_records() if resource.get("team") == "platform"}
    check_tools(captured.get("/api/v1/tools", params={"attr.team": "platform"}).json(), expected_tools(team))
    empty = captured.get("/api/v1/tools", params={"since": "2026-11-23"}).json()
    assert empty["rows"] == [] and empty["totals"]["calls"] == 0
    assert captured.get("/api/v1/tools", params={"colour": "red"}).status_code == 400
    csv = captured.get("/api/v1/tools", params={"format": "csv"}).text.splitlines()
    assert csv[0].startswith("tool,calls,") and len(csv) == 1 + len(expected_tools())


# -- errors --------------------------------------------------------------------------------------------

ERROR_SESSION = "e0000000-0000-4000-8000-000000000001"
FAILED_PROMPT = "p0000000-0000-4000-8000-00000000000f"


def event(name: str, seq: int, t_ms: int, **attributes) -> dict:
    base = {"session.id": ERROR_SESSION, "event.name": name, "event.sequence": seq, "user.id": "u1",
            **attributes}  # fmt: skip
    kv = [{"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": str(v)}}
          for k, v in base.items()]  # fmt: skip
    return {"timeUnixNano": str(t_ms * 10**6), "body": {"stringValue": f"claude_code.{name}"}, "attributes": kv}


ERROR_EVENTS = [
    event("api_request", 1, 1795344000000, **{"prompt.id": FAILED_PROMPT}, model="claude-sonnet-4-5",
          request_id="req_err_ok", input_tokens=1234, output_tokens=321, cache_read_tokens=91011,
          cache_creation_tokens=5678, cost_usd="0.0571128", duration_ms=40),
    event("api_error", 2, 1795344001000, **{"prompt.id": FAILED_PROMPT}, model="claude-sonnet-4-5", status_code=529,
          attempt=1, error="Overloaded", duration_ms=120),
    event("api_error", 3, 1795344002000, **{"prompt.id": FAILED_PROMPT}, model="claude-sonnet-4-5", status_code=529,
          attempt=2, error="Overloaded", duration_ms=80),
    event("api_error", 4, 1795344003000, **{"prompt.id": FAILED_PROMPT}, model="claude-sonnet-4-5", status_code=529,
          attempt=3, error="Overloaded", duration_ms=90),
    event("api_retries_exhausted", 5, 1795344004000, **{"prompt.id": FAILED_PROMPT}, model="claude-sonnet-4-5",
          status_code=529, total_attempts=3, total_retry_duration_ms=2900, error="Overloaded"),
    event("api_error", 6, 1795344005000, **{"prompt.id": "p2"}, model="claude-haiku-4-5", status_code=500, attempt=1,
          error="Internal", duration_ms=10),
]  # fmt: skip


def test_errors(captured):
    assert captured.get("/api/v1/errors").json()["totals"]["errors"] == 0  # the captures have none
    body = {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]},
                "scopeLogs": [{"logRecords": ERROR_EVENTS}],
            }
        ]
    }
    r = captured.post("/v1/logs", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    errors = [attrs(e["attributes"]) for e in ERROR_EVENTS if e["body"]["stringValue"] == "claude_code.api_error"]
    got = captured.get("/api/v1/errors", params={"session": ERROR_SESSION}).json()
    rows = defaultdict(int)
    for e in errors:
        rows[(str(e["status_code"]), e["model"], e["attempt"])] += 1
    assert {(r["status_code"], r["model"], r["attempt"]): r["errors"] for r in got["rows"]} == rows
    by_status = defaultdict(int)
    for e in errors:
        by_status[str(e["status_code"])] += 1
    assert {r["status_code"]: r["errors"] for r in got["by_status"]} == by_status == {"529": 3, "500": 1}
    assert {r["attempt"]: r["errors"] for r in got["by_attempt"]} == {1: 2, 2: 1, 3: 1}
    assert {r["model"]: r["errors"] for r in got["by_model"]} == {"claude-sonnet-4-5": 3, "claude-haiku-4-5": 1}
    assert got["totals"]["errors"] == 4 and got["totals"]["duration_ms"] == 120 + 80 + 90 + 10
    exhausted = got["retries_exhausted"]
    assert (exhausted["count"], exhausted["attempts"], exhausted["retry_duration_ms"]) == (1, 3, 2900)
    assert exhausted["rows"] == [{"status_code": "529", "model": "claude-sonnet-4-5", "count": 1, "attempts": 3,
                                  "retry_duration_ms": 2900.0}]  # fmt: skip
    # the prompt that ended in exhausted retries had cost its one successful request
    assert exhausted["prompts_requests"] == 1 and exhausted["prompts_cost_usd"] == pytest.approx(0.0571128, abs=1e-12)
    # a filter on the model the error event carries is compared on the event
    haiku = captured.get("/api/v1/errors", params={"session": ERROR_SESSION, "model": "claude-haiku-4-5"}).json()
    assert haiku["totals"]["errors"] == 1 and haiku["retries_exhausted"]["count"] == 0


# -- activity ------------------------------------------------------------------------------------------


def expected_activity(sessions: set[str] | None = None) -> dict[str, float]:
    """Delta points add up; a cumulative series (name, attributes, start) counts its last (largest) value."""
    delta: dict[tuple, float] = defaultdict(float)
    cumulative: dict[tuple, float] = {}
    for _, body in bodies("metrics"):
        for rm in body["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    if "sum" not in metric:
                        continue
                    temporality = metric["sum"]["aggregationTemporality"]
                    for p in metric["sum"]["dataPoints"]:
                        a = attrs(p["attributes"])
                        if sessions is not None and a.get("session.id") not in sessions:
                            continue
                        v = float(p.get("asDouble", p.get("asInt", 0)))
                        key = (metric["name"], a.get("type", ""), a.get("decision", ""))
                        if temporality in (2, "AGGREGATION_TEMPORALITY_CUMULATIVE"):
                            series = key + (json.dumps(a, sort_keys=True), p["startTimeUnixNano"])
                            cumulative[series] = max(cumulative.get(series, 0.0), v)
                        else:
                            delta[key] += v
    for series, v in cumulative.items():
        delta[series[:3]] += v

    def total(name, type_="", decision=""):
        return sum(v for (n, t, d), v in delta.items() if n == name and (not type_ or t == type_)
                   and (not decision or d == decision))  # fmt: skip

    return {"lines_added": total("claude_code.lines_of_code.count", "added"),
            "lines_removed": total("claude_code.lines_of_code.count", "removed"),
            "commits": total("claude_code.commit.count"), "pull_requests": total("claude_code.pull_request.count"),
            "edits_accepted": total("claude_code.code_edit_tool.decision", decision="accept"),
            "active_time_user_s": total("claude_code.active_time.total", "user"),
            "active_time_cli_s": total("claude_code.active_time.total", "cli"),
            "sessions_started": total("claude_code.session.count")}  # fmt: skip


def test_activity(captured):
    expected = expected_activity()
    assert expected["lines_added"] == 4 and expected["edits_accepted"] == 1  # r08 wrote hello.py
    body = captured.get("/api/v1/activity").json()
    for key, want in expected.items():
        assert body["totals"][key] == pytest.approx(want, abs=1e-6), key
    assert [r["day"] for r in body["rows"]] == ["2026-11-22"]
    assert body["edit_decisions"] == [{"language": "Python", "tool": "Write", "decision": "accept", "source": "config",
                                       "decisions": 1}]  # fmt: skip
    # r12 exported cumulative points every second: counted once, not once per point
    r12 = "169ea255-0dd6-4f20-805e-afa2323b0a8b"
    one = captured.get("/api/v1/activity", params={"session": r12, "group_by": "session"}).json()
    assert one["rows"][0]["active_time_cli_s"] == pytest.approx(expected_activity({r12})["active_time_cli_s"], abs=1e-6)
    assert captured.get("/api/v1/activity", params={"group_by": "model"}).status_code == 400


def test_activity_counts_commits_and_cumulative_series_within_the_window(captured):
    session = "a0000000-0000-4000-8000-0000000000ac"
    start = 1795350000

    def point(t, v, **a):
        kv = [{"key": k, "value": {"stringValue": x}} for k, x in {"session.id": session, **a}.items()]
        return {
            "attributes": kv,
            "startTimeUnixNano": str(start * 10**9),
            "timeUnixNano": str(t * 10**9),
            "asDouble": v,
        }

    def metric(name, temporality, points):
        return {"name": name, "sum": {"aggregationTemporality": temporality, "isMonotonic": True, "dataPoints": points}}

    body = {
        "resourceMetrics": [
            {
                "resource": {},
                "scopeMetrics": [
                    {
                        "metrics": [
                            metric("claude_code.commit.count", 1, [point(start + 10, 1), point(start + 20, 2)]),
                            metric("claude_code.pull_request.count", 1, [point(start + 30, 1)]),
                            # cumulative lines: 2 before the window, 5 then 9 inside it: 7 were added in the window
                            metric(
                                "claude_code.lines_of_code.count",
                                2,
                                [
                                    point(start + 5, 2, type="added"),
                                    point(start + 40, 5, type="added"),
                                    point(start + 50, 9, type="added"),
                                ],
                            ),
                        ]
                    }
                ],
            }
        ]
    }
    assert (
        captured.post("/v1/metrics", content=json.dumps(body), headers={"Content-Type": "application/json"}).status_code
        == 200
    )

    since = datetime.fromtimestamp(start + 8, tz=UTC).isoformat()
    got = captured.get("/api/v1/activity", params={"session": session, "since": since, "group_by": ""}).json()
    assert got["rows"] == []
    assert (got["totals"]["commits"], got["totals"]["pull_requests"], got["totals"]["lines_added"]) == (3, 1, 7)
    whole = captured.get("/api/v1/activity", params={"session": session, "group_by": ""}).json()
    assert whole["totals"]["lines_added"] == 9


# -- timeline ------------------------------------------------------------------------------------------


def r10_spans() -> dict[str, dict]:
    body = json.loads((FIXTURES / "otlp" / R10 / "traces-001.pb.json").read_text())
    spans = {}
    for rs in body["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                sid = base64.b64decode(s["spanId"]).hex()
                spans[sid] = {"name": s["name"], "parent": base64.b64decode(s.get("parentSpanId", "")).hex(),
                              "ms": (int(s["endTimeUnixNano"]) - int(s["startTimeUnixNano"])) / 1e6,
                              "start": int(s["startTimeUnixNano"]), "attributes": attrs(s["attributes"])}  # fmt: skip
    return spans


def children(spans, parent, name):
    return sorted((s for s in spans.values() if s["parent"] == parent and s["name"] == name), key=lambda s: s["start"])


def test_timeline_from_spans(captured):
    spans = r10_spans()
    ((root_id, root),) = [(k, s) for k, s in spans.items() if s["name"] == "claude_code.interaction"]
    body = captured.get(f"/api/v1/sessions/{R10_SESSION}/timeline").json()
    assert body["source"] == "spans"
    (interaction,) = body["interactions"]
    assert interaction["duration_ms"] == pytest.approx(root["ms"], abs=1e-3)
    assert interaction["prompt_length"] == root["attributes"]["user_prompt_length"] == 60
    # the interaction's requests, in order: the title, the main request that asked for the Agent tool, the last
    llm = children(spans, root_id, "claude_code.llm_request")
    assert [r["duration_ms"] for r in interaction["requests"]] == pytest.approx([s["ms"] for s in llm], abs=1e-3)
    assert [r["request_id"] for r in interaction["requests"]] == [s["attributes"]["request_id"] for s in llm]
    assert [r["model"] for r in interaction["requests"]] == [
        "claude-haiku-4-5",
        "claude-sonnet-4-5",
        "claude-sonnet-4-5",
    ]
    asked = interaction["requests"][1]
    assert asked["input_tokens"] == 1234 and asked["cost_usd"] == pytest.approx(0.0571128, abs=1e-12)
    (agent,) = asked["tools"]
    ((agent_span_id, agent_span),) = [(k, s) for k, s in spans.items() if s["attributes"].get("tool_name") == "Agent"]
    assert agent["name"] == "Agent" and agent["duration_ms"] == pytest.approx(agent_span["ms"], abs=1e-3)
    assert agent["tool_use_id"] == agent_span["attributes"]["tool_use_id"]
    (execution,) = children(spans, agent_span_id, "claude_code.tool.execution")
    (blocked,) = children(spans, agent_span_id, "claude_code.tool.blocked_on_user")
    assert agent["execution_ms"] == pytest.approx(execution["ms"], abs=1e-3)
    assert agent["blocked_on_user_ms"] == pytest.approx(blocked["ms"], abs=1e-3)
    # the span says "unknown"; the tool_decision event says who allowed it
    assert (agent["decision"], agent["decision_source"]) == ("accept", "config")
    # the subagent ran inside the Agent tool: its two requests, the first of which asked for Bash
    execution_id = next(k for k, s in spans.items() if s is execution)
    sub = children(spans, execution_id, "claude_code.llm_request")
    assert [r["duration_ms"] for r in agent["requests"]] == pytest.approx([s["ms"] for s in sub], abs=1e-3)
    assert [t["name"] for t in agent["requests"][0]["tools"]] == ["Bash"] and agent["requests"][1]["tools"] == []
    assert interaction["requests"][0]["tools"] == [] and interaction["requests"][2]["tools"] == []


def test_timeline_from_events(engine_url):
    """The same session with no spans (past the raw TTL, or tracing off): the same tree, from events."""
    database = new_database()
    store = open_store(engine_url, database)
    with api_client(make_state(store, Settings(database=database, tz="UTC", write_flush_ms=5))) as client:
        for _, signal, body, content_type in __import__("conftest").fixture_bodies(R10):
            if signal == "logs":
                assert client.post("/v1/logs", content=body, headers={"Content-Type": content_type}).status_code == 200
        got = client.get(f"/api/v1/sessions/{R10_SESSION}/timeline").json()
    store.command(f"DROP DATABASE IF EXISTS `{database}`")
    assert got["source"] == "events"
    records = [(r, a) for _, _, r, a in log_records((R10,))]
    requests = {a["request_id"]: a for _, a in records if a.get("event.name") == "api_request"}
    results = {a["tool_use_id"]: a for _, a in records if a.get("event.name") == "tool_result"}
    title, prompt = got["interactions"]  # the title request carries no prompt id: an interaction of its own
    assert [r["request_id"] for r in title["requests"]] == [k for k, a in requests.items() if "prompt.id" not in a]
    assert prompt["prompt_length"] == 60
    main = [k for k, a in requests.items() if a.get("query_source") == "sdk"]
    assert [r["request_id"] for r in prompt["requests"]] == main
    for r in prompt["requests"]:
        assert r["duration_ms"] == int(requests[r["request_id"]]["duration_ms"])
    (agent,) = prompt["requests"][0]["tools"]
    assert agent["name"] == "Agent" and agent["duration_ms"] == float(results[agent["tool_use_id"]]["duration_ms"])
    assert (agent["decision"], agent["decision_source"], agent["success"]) == ("accept", "config", True)
    assert agent["input_bytes"] == int(results[agent["tool_use_id"]]["tool_input_size_bytes"])
    subagent = [k for k, a in requests.items() if a.get("query_source") == "agent:custom"]
    assert [r["request_id"] for r in agent["requests"]] == subagent
    assert [t["name"] for t in agent["requests"][0]["tools"]] == ["Bash"]


def test_timeline_of_a_refused_tool_and_of_gemini(captured):
    refused = captured.get("/api/v1/sessions/4b2b240b-3763-4154-8be1-9e101148701c/timeline").json()
    tools = [t for i in refused["interactions"] for r in i["requests"] for t in r["tools"]]
    assert [(t["name"], t["decision"], t["success"]) for t in tools] == [("Bash", "reject", None)]
    span = json.loads(GEMINI_TRACES.read_text())["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    session = attrs(span["attributes"])["gen_ai.conversation.id"]
    gemini = captured.get(f"/api/v1/sessions/{session}/timeline").json()
    assert gemini["source"] == "spans"
    ((request,),) = [i["requests"] for i in gemini["interactions"]]
    assert request["model"] == "gemini-2.5-flash"
    assert request["duration_ms"] == pytest.approx(
        (int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"])) / 1e6, abs=1e-3
    )
    assert captured.get("/api/v1/sessions/no-such-session/timeline").status_code == 404


# -- the CLI --------------------------------------------------------------------------------------------


def test_cli_commands_print_the_api(captured, monkeypatch):
    from typer.testing import CliRunner

    from cctelemetry.cli import main as cli

    monkeypatch.setenv("CCTELEMETRY_DATABASE", captured.app.state.service.store.database)
    monkeypatch.setenv("CCTELEMETRY_TZ", "UTC")
    runner = CliRunner()
    for args, path in ((["tools"], "/api/v1/tools"), (["errors"], "/api/v1/errors"),
                       (["activity", "--by", "session"], "/api/v1/activity?group_by=session"),
                       (["timeline", R10_SESSION], f"/api/v1/sessions/{R10_SESSION}/timeline")):  # fmt: skip
        result = runner.invoke(cli.app, args + ["--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == captured.get(path).json(), args
        table = runner.invoke(cli.app, args)
        assert table.exit_code == 0 and table.output.strip(), table.output
    assert "Agent" in runner.invoke(cli.app, ["timeline", R10_SESSION]).output

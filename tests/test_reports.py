"""Usage and session reports over the replayed real-client data: dimensions, filters, time zones, CSV, errors."""

import csv
import io

import pytest

R09 = "108c97e4-ebf2-4e4d-9f41-e3c721ea1518"


def get(client, path, **params):
    return client.get(path, params=params)


def test_every_dimension_groups(replayed_client):
    from cctelemetry.reports.query import DIMENSIONS

    total = get(replayed_client, "/api/v1/usage").json()["totals"]
    for dim in DIMENSIONS:
        body = get(replayed_client, "/api/v1/usage", group_by=dim).json()
        assert sum(r["requests"] for r in body["rows"]) == total["requests"], dim
        assert body["totals"] == total


def test_days_follow_the_time_zone(replayed_client):
    # the runs happened around 10:36-10:40 UTC on 2026-11-22: still the 22nd in Tokyo (19:36), and in Honolulu (00:36)
    for tz, day in (("UTC", "2026-11-22"), ("Asia/Tokyo", "2026-11-22"), ("Pacific/Kiritimati", "2026-11-23")):
        rows = get(replayed_client, "/api/v1/usage", group_by="day", tz=tz).json()["rows"]
        assert [r["day"] for r in rows] == [day], tz


def test_since_until_and_dimension_filters(replayed_client):
    everything = get(replayed_client, "/api/v1/usage").json()["totals"]["requests"]
    assert get(replayed_client, "/api/v1/usage", since="2026-11-23").json()["totals"]["requests"] == 0
    assert get(replayed_client, "/api/v1/usage", until="2026-11-22").json()["totals"]["requests"] == 0
    assert (
        get(replayed_client, "/api/v1/usage", since="2026-11-22", until="2026-11-23").json()["totals"]["requests"]
        == everything
    )
    body = get(replayed_client, "/api/v1/usage", group_by="model", model="claude-haiku-4-5", agent="custom").json()
    assert [r["model"] for r in body["rows"]] == ["claude-haiku-4-5"] and body["totals"][
        "requests"
    ] == 3  # r09: 1, r10: 2


def test_csv_export(replayed_client):
    r = get(replayed_client, "/api/v1/usage", group_by="session,model", format="csv")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert set(rows[0]) >= {"session", "model", "requests", "cost_usd", "reported_cost_usd"}
    assert sum(int(x["requests"]) for x in rows) == get(replayed_client, "/api/v1/usage").json()["totals"]["requests"]
    for path in ("/api/v1/sessions", f"/api/v1/sessions/{R09}"):
        assert get(replayed_client, path, format="csv").headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("params, message", [
    ({"group_by": "colour"}, "unknown dimension"),
    ({"colour": "red"}, "cannot filter on colour"),
    ({"tz": "Mars/Olympus"}, "unknown time zone"),
    ({"tz": "x" * 300}, "unknown time zone"),  # longer than a file name: the zone lookup's OSError (schemathesis)
    ({"since": "last tuesday"}, "cannot read time"),
    ({"format": "xml"}, "unknown format"),
    ({"limit": "0"}, "limit"),
])  # fmt: skip
def test_bad_parameters_are_400_with_the_error_shape(replayed_client, params, message):
    r = get(replayed_client, "/api/v1/usage", **params)
    assert r.status_code == 400
    body = r.json()
    assert body["ok"] is False and body["status"] == 400 and message in body["error"]


def test_sessions_newest_first(replayed_client):
    rows = get(replayed_client, "/api/v1/sessions").json()["rows"]
    assert len(rows) == 11
    assert [r["last_seen"] for r in rows] == sorted((r["last_seen"] for r in rows), reverse=True)
    r09 = next(r for r in rows if r["session"] == R09)
    assert r09["models"] == ["claude-haiku-4-5", "claude-sonnet-4-5"]
    assert r09["cost_usd"] == pytest.approx(0.1155092, abs=1e-12)


def test_session_detail_has_requests_in_order_and_tool_results(replayed_client):
    body = get(replayed_client, "/api/v1/sessions/8a0ff020-faf3-401e-a257-17ccc1f45658").json()
    stamps = [r["timestamp"] for r in body["requests"]]
    assert len(stamps) == 5 and stamps == sorted(stamps)
    assert {t["tool_name"] for t in body["tool_results"]} >= {"Agent", "Bash"}
    assert all(t["success"] == "true" for t in body["tool_results"])
    assert body["session"]["requests"] == 5


def test_unknown_session_is_404(replayed_client):
    r = get(replayed_client, "/api/v1/sessions/nope")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_read_only_sql(replayed_client):
    r = replayed_client.post("/api/v1/sql", json={"query": "SELECT count() AS n FROM requests"})
    assert r.status_code == 200 and r.json()["rows"][0]["n"] >= 26
    r = replayed_client.post("/api/v1/sql", json={"query": "DROP TABLE request_copies"})
    assert r.status_code == 400 and "readonly" in r.json()["error"].lower()
    r = replayed_client.post("/api/v1/sql", json={"query": "SELEC nonsense"})
    assert r.status_code == 400
    r = replayed_client.post("/api/v1/sql", json={"query": "SELECT 1; DROP TABLE request_copies"})
    assert r.status_code == 400
    r = replayed_client.post("/api/v1/sql", json={"query": "SELECT count() AS n FROM requests;"})
    assert r.status_code == 200 and r.json()["rows"][0]["n"] >= 26


def test_openapi_and_health(replayed_client):
    assert replayed_client.get("/healthz").json()["ok"] is True
    spec = replayed_client.get("/openapi.json").json()
    assert {"/v1/logs", "/v1/metrics", "/v1/traces", "/api/v1/usage", "/api/v1/sessions"} <= set(spec["paths"])
    assert replayed_client.get("/docs").status_code == 200

"""Every SQL example in the README and clickhouse/README.md runs, and gives the API's numbers.

An example is a ```sql block after an ``<!-- api: PATH -->`` marker, or a ``cctelemetry sql "..."`` line.
When the marker names an API path, the example's rows must equal that report's rows on the columns they
share (dimensions and measures by the API's names); ``api: none`` examples (raw tables) must run.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from cctelemetry.config import Settings
from cctelemetry.ingest.transcripts import import_transcripts
from conftest import api_client, make_state, new_database, open_store, post_fixtures

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", REPO / "clickhouse" / "README.md"]
MARKED = re.compile(r"<!-- api: (\S+).*?-->\s*```sql\n(.*?)```", re.S)
CLI = re.compile(r'cctelemetry sql "((?:SELECT|SHOW|DESCRIBE) [^"]+)"')
MEASURES = ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "cost_usd",
            "reported_cost_usd", "computed_cost_usd")  # fmt: skip


def examples() -> list[tuple[str, str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        found += [(f"{doc.relative_to(REPO)}:{api}", api, sql) for api, sql in MARKED.findall(text)]
        found += [(f"{doc.relative_to(REPO)}:cli", "none", sql) for sql in CLI.findall(text)]
    return found


@pytest.fixture(scope="module")
def both_sources(engine_url):
    """The captured runs delivered twice, as a user who imports history while telemetry is on has them: the
    OTLP bodies replayed and the same runs' transcripts imported. The fact table then holds each request's
    copies (telemetry, transcript, the merged row and its superseded inputs)."""
    database = new_database()
    store = open_store(engine_url, database)
    with api_client(make_state(store, Settings(database=database, tz="UTC", write_flush_ms=5))) as client:
        post_fixtures(client)
        import_transcripts(store, [REPO / "tests" / "data" / "claude-config-projects"])
        yield client
    store.command(f"DROP DATABASE IF EXISTS `{database}`")


def test_the_docs_have_examples():
    apis = [api for _, api, _ in examples()]
    assert len(apis) >= 5 and sum(api != "none" for api in apis) >= 3


@pytest.mark.parametrize(("where", "api", "sql"), examples(), ids=[e[0] for e in examples()])
def test_documented_sql_gives_the_api_numbers(both_sources, where, api, sql):
    replayed_client = both_sources
    database = replayed_client.app.state.service.store.database
    query = sql.replace("otel.", f"`{database}`.")
    answer = replayed_client.post("/api/v1/sql", json={"query": query})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["rows"]
    if api == "none":
        return
    assert rows, f"{where}: no rows on the captured data"
    parts = urlsplit(api)
    report = replayed_client.get(parts.path, params=dict(parse_qsl(parts.query))).json()
    dims = report["group_by"]
    shared = [c for c in rows[0] if c in MEASURES]
    assert set(dims) <= set(rows[0]) and shared, f"{where}: columns {list(rows[0])} do not name the report's"
    by_key = {tuple(str(r[d]) for d in dims): r for r in report["rows"]}
    assert len(rows) == len(by_key)
    for row in rows:
        expected = by_key[tuple(str(row[d]) for d in dims)]
        for column in shared:
            assert row[column] == pytest.approx(expected[column], rel=1e-9, abs=1e-12), (where, column, row)


def test_summing_the_raw_fact_table_over_counts(both_sources):
    """Why the views exist: the raw table holds every copy, so the same sum over it is larger."""
    raw = both_sources.post("/api/v1/sql", json={"query": "SELECT sum(output_tokens) AS n FROM request_copies"}).json()
    view = both_sources.post("/api/v1/sql", json={"query": "SELECT sum(output_tokens) AS n FROM requests"}).json()
    api = both_sources.get("/api/v1/usage").json()["totals"]["output_tokens"]
    assert view["rows"][0]["n"] == api < raw["rows"][0]["n"]

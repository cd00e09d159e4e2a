"""The stack's ClickHouse users can do what the service asks of them.

The image ships ``select_from_system_db_requires_grant``, so a ``system.*`` table other than the few
everyone may read needs a grant; and the service writes through the ``writer`` user only. This test runs
the service's work for real on the embedded engine (prepare, OTLP ingest, a transcript import, every report,
ad-hoc SQL, health) with every statement recorded by the connection role it went through, then checks:

- every ``system.*`` table a reading role (read, adhoc, control) or the write role touches is readable by the
  user that role connects as in the stack (``reader`` or ``writer``) under clickhouse/users.d;
- every statement of the write role needs only privileges the ``writer`` has on ``otel.*``;
- the reading roles never write.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cctelemetry.config import Settings
from cctelemetry.ingest.transcripts import import_transcripts
from cctelemetry.store import Store
from conftest import api_client, make_state, new_database, post_fixtures

REPO = Path(__file__).resolve().parents[2]
USERS = REPO / "clickhouse" / "users.d" / "cctelemetry-users.xml"
# Readable by anyone even with select_from_system_db_requires_grant (ClickHouse docs, server setting
# select_from_system_db_requires_grant: tables, columns, databases and the constant tables).
ALWAYS_READABLE = {"one", "numbers", "numbers_mt", "zeros", "zeros_mt", "contributors", "licenses",
                   "tables", "columns", "databases", "functions", "settings"}  # fmt: skip
# the write role (migrations, the fact writer, imports) and the ingest role (the OTLP writer's own connection)
# connect as the stack's writer
WRITING = ("write", "ingest")
STACK_USER = {"read": "reader", "adhoc": "reader", "control": "reader", "write": "writer", "ingest": "writer"}

# The privileges each kind of statement needs (ClickHouse's interpreters' getRequiredAccess; RENAME and
# EXCHANGE: SELECT + DROP TABLE on the source, CREATE TABLE + INSERT on the target, both ways).
STATEMENTS = [
    (re.compile(r"^\s*INSERT\s+INTO", re.I), {"INSERT"}),
    (re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?VIEW", re.I), {"CREATE VIEW", "DROP VIEW"}),
    (re.compile(r"^\s*CREATE\s+MATERIALIZED\s+VIEW", re.I), {"CREATE VIEW"}),
    (re.compile(r"^\s*CREATE\s+(TEMPORARY\s+)?TABLE", re.I), {"CREATE TABLE"}),
    (re.compile(r"^\s*CREATE\s+DATABASE", re.I), {"CREATE DATABASE"}),
    (re.compile(r"^\s*DROP\s+TABLE", re.I), {"DROP TABLE"}),
    (re.compile(r"^\s*DROP\s+VIEW", re.I), {"DROP VIEW"}),
    (re.compile(r"^\s*TRUNCATE", re.I), {"TRUNCATE"}),
    (re.compile(r"^\s*EXCHANGE\s+TABLES", re.I), {"SELECT", "DROP TABLE", "CREATE TABLE", "INSERT"}),
    (re.compile(r"^\s*ALTER\s+TABLE", re.I), {"ALTER"}),
    (re.compile(r"^\s*OPTIMIZE", re.I), {"OPTIMIZE"}),
    (re.compile(r"^\s*(WITH|SELECT|SHOW|DESCRIBE|EXPLAIN|EXISTS|\()", re.I), {"SELECT"}),
    # The embedded engine's freed memory handed back by the importer (ingest/transcripts/batches.py
    # release_memory): sent only when the store is embedded, never to the stack's server.
    (re.compile(r"^\s*SYSTEM\s+JEMALLOC\s+PURGE\s*$", re.I), set()),
]
WRITES = ("INSERT", "CREATE", "DROP", "TRUNCATE", "EXCHANGE", "ALTER", "OPTIMIZE")
SYSTEM_TABLE = re.compile(r"\bsystem\.([a-z_]+)", re.I)


def grants() -> dict[str, dict[str, set[str]]]:
    """user -> {"otel": privileges on otel.*, "system": readable system tables}."""
    out = {}
    for user in ET.parse(USERS).getroot().find("users"):
        privileges: set[str] = set()
        system: set[str] = set()
        for query in user.findall("grants/query"):
            m = re.match(r"GRANT (.+) ON (\S+)", query.text.strip())
            names = {p.strip().upper() for p in m.group(1).split(",")}
            if m.group(2) == "otel.*":
                privileges |= names
            elif m.group(2).startswith("system.") and "SELECT" in names:
                system.add(m.group(2).split(".", 1)[1])
        out[user.tag] = {"otel": privileges, "system": system}
    return out


def required(sql: str) -> set[str]:
    sql = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    for pattern, needs in STATEMENTS:
        if pattern.match(sql):
            return needs
    raise AssertionError(f"a statement of an unknown kind: {sql[:120]!r}")


@pytest.fixture
def recorded(engine_url, monkeypatch):
    """Every statement the service sends, by connection role, over one database's full life."""
    calls: list[tuple[str, str]] = []
    original = Store._call

    def record(self, role, method, *args, **kwargs):
        sql = args[0] if method in ("query", "command", "raw_query") else f"INSERT INTO {args[0]}"
        calls.append((role, sql))
        return original(self, role, method, *args, **kwargs)

    monkeypatch.setattr(Store, "_call", record)
    database = new_database()
    settings = Settings(database=database, tz="UTC", write_flush_ms=5, clickhouse_url=engine_url)
    store = Store(engine_url, database)
    from cctelemetry.bootstrap import prepare

    prepare(store, settings)  # what the stack's migrate container does, as writer
    from cctelemetry.reports import cache as result_cache

    result_cache.enable(store)  # as the service does
    state = make_state(store, settings)
    with api_client(state) as client:
        post_fixtures(client)
        import_transcripts(store, [REPO / "tests" / "data" / "claude-config-projects"])
        session = client.get("/api/v1/sessions").json()["rows"][0]["session"]
        for path in ("/api/v1/usage?group_by=day,model", "/api/v1/cost?period=month", "/api/v1/cost/reconcile",
                     "/api/v1/sessions", f"/api/v1/sessions/{session}", "/api/v1/prices", "/healthz",
                     "/api/v1/usage?group_by=attr.team&agent=nobody"):  # fmt: skip
            assert client.get(path).status_code == 200, path
        assert client.post("/api/v1/sql", json={"query": "SELECT count() FROM requests"}).status_code == 200
        # the live endpoints: the statusline stores rate limits (write role), its figures come from a worker
        from cctelemetry.api.live import live_for

        statusline = json.loads((REPO / "tests" / "data" / "statusline" / "documented.json").read_text())
        for path in ("/api/v1/blocks?token_limit=max", "/api/v1/limits", "/api/v1/monitor",
                     "/api/v1/sessions/current?cwd=/home/dev01/work"):  # fmt: skip
            assert client.get(path).status_code == 200, path
        assert client.post("/api/v1/statusline", json=statusline).status_code == 200
        state = client.app.state.service
        live_for(state).recorder.flush()
        live_for(state).stop()
        for path in ("/metrics", "/api/v1/insights", "/api/v1/alerts"):
            assert client.get(path).status_code == 200, path
        assert client.put("/api/v1/budgets", json={"budgets": [{"name": "g", "period": "day", "amount_usd": 0.01}]}
                          ).status_code == 200  # fmt: skip
        evaluator = state.start_budgets(clock=lambda: datetime(2026, 11, 22, 12, tzinfo=UTC))  # the captures' day
        assert len(evaluator.check()) == 3  # alerts written
        evaluator.stop()
        assert client.get("/api/v1/budgets").status_code == 200
    store.command(f"DROP DATABASE IF EXISTS `{database}`")
    return [(role, sql) for role, sql in calls if "DROP DATABASE" not in sql]


def test_the_scenario_touched_every_role(recorded):
    assert {role for role, _ in recorded} == {"read", "adhoc", "control", "write", "ingest"}
    assert any("schema_migrations" in sql for role, sql in recorded if role == "write")


def test_system_tables_are_granted(recorded):
    users = grants()
    missing = set()
    for role, sql in recorded:
        user = STACK_USER[role]
        for table in SYSTEM_TABLE.findall(sql):
            if table not in ALWAYS_READABLE and table not in users[user]["system"]:
                missing.add(f"{user} reads system.{table}")
    assert not missing, sorted(missing)


def test_writes_need_only_the_writers_privileges(recorded):
    writer = grants()["writer"]["otel"] | {"SELECT"}
    needed = {p for role, sql in recorded if role in WRITING for p in required(sql)}
    assert needed <= writer, sorted(needed - writer)
    assert "INSERT" in needed and "CREATE TABLE" in needed  # the scenario did write


def test_reading_roles_never_write(recorded):
    writes = [
        (role, sql[:80])
        for role, sql in recorded
        if role not in WRITING and required(sql) & {"INSERT", "CREATE TABLE", "DROP TABLE", "TRUNCATE", "ALTER"}
    ]
    assert not writes
    assert all(p in ("SELECT",) for role, sql in recorded if role not in WRITING for p in required(sql))


def test_the_reader_is_read_only_and_the_default_user_is_local_only():
    root = ET.parse(USERS).getroot()
    assert root.find("profiles/cctelemetry_readonly/readonly").text == "2"
    assert grants()["reader"]["otel"] == {"SELECT", "SHOW"}
    networks = [ip.text for ip in root.findall("users/default/networks/ip")]
    assert set(networks) <= {"::1", "127.0.0.1"}

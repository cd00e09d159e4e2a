"""A store made before the rollups (migrations up to 0007: the old api_requests fact table, with merged and
superseded rows) is migrated: its requests move into request_copies once each, the old table goes, the
rollups are built from them at the first start, and every report says what it said before. A store made before
the daily rollup (migrations up to 0014, its hourly rollup built) gets its days at the first start after 0015."""

from __future__ import annotations

from datetime import datetime

from cctelemetry.bootstrap import prepare
from cctelemetry.config import Settings
from cctelemetry.reports.query import RequestFilter
from cctelemetry.reports.scope import Pricing
from cctelemetry.reports.usage import usage
from cctelemetry.store import Store
from cctelemetry.store.migrate import _LEDGER, load_migrations, migrate
from conftest import new_database
from request_copies import insert_copies

OLD = ["timestamp", "agent_product", "service_name", "session_id", "request_id", "request_key", "model", "agent",
       "project", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens",
       "cache_creation_1h_tokens", "cache_split_known", "reported_cost_usd", "source", "source_priority",
       "superseded"]  # fmt: skip
T = datetime(2026, 10, 31, 23, 59, 59)  # the merged request's transcript line falls on the next day (and month)
T_NEXT = datetime(2026, 11, 1, 0, 0, 1)


def old_rows() -> list[list]:
    sonnet = "claude-sonnet-4-5"
    cc = ("claude_code", "claude-code")  # the agent and its service.name
    return [
        # telemetry only, and a retried copy of it (same key and source: one request)
        [T, *cc, "s1", "r1", "r1", sonnet, "main", "", 1000, 100, 0, 0, 0, 0, 0.0045, "otel", 2, 0],
        [T, *cc, "s1", "r1", "r1", sonnet, "main", "", 1000, 100, 0, 0, 0, 0, 0.0045, "otel", 2, 0],
        # a transcript's partial copy, then its full one
        [T, *cc, "s2", "r2", "r2", sonnet, "main", "/p", 10, 1, 0, 0, 0, 1, None, "transcript", 1, 0],
        [T, *cc, "s2", "r2", "r2", sonnet, "main", "/p", 10, 50, 0, 0, 0, 1, None, "transcript", 1, 0],
        # telemetry + transcript: the merged row, and its two inputs superseded (the transcript's a second later)
        [T, *cc, "s3", "r3", "r3", sonnet, "main", "/q", 20, 30, 40, 60, 60, 1, 0.0011, "merged", 3, 0],
        [T, *cc, "s3", "r3", "r3", sonnet, "main", "", 20, 30, 40, 60, 0, 0, 0.0011, "otel", 2, 1],
        [T_NEXT, *cc, "s3", "r3", "r3", sonnet, "main", "/q", 20, 30, 40, 60, 60, 1, None, "transcript", 1, 1],
    ]  # fmt: skip


def migrate_to(version: int, store: Store) -> None:
    """The store as the migrations up to ``version`` left it, each recorded in the ledger."""
    store.create_database()
    store.command(_LEDGER)
    for migration in [m for m in load_migrations() if m.version <= version]:
        for statement in migration.statements(72, 400):
            store.command(statement)
        store.insert_plain("schema_migrations", {"version": [migration.version], "name": [migration.name],
                                                 "checksum": [migration.checksum]})  # fmt: skip


def test_an_old_store_is_migrated_and_its_rollup_built(engine_url):
    database = new_database()
    store = Store(engine_url, database)
    try:
        migrate_to(7, store)
        store.insert("api_requests", old_rows(), OLD)

        applied = migrate(store)
        assert [m.version for m in applied if m.version == 10] == [10]
        assert store.scalar("SELECT count() FROM system.tables WHERE database = currentDatabase() "
                            "AND name = 'api_requests'") == 0  # fmt: skip
        assert store.scalar("SELECT count() FROM usage_hourly") == 0  # built at the first start, not by the migration
        prepare(store, Settings(database=database))

        live = store.rows("SELECT request_key, source, output_tokens, timestamp FROM request_copies FINAL "
                          "WHERE superseded = 0 ORDER BY request_key")  # fmt: skip
        assert [(r["request_key"], r["source"], r["output_tokens"]) for r in live] == [
            ("r1", "otel", 100), ("r2", "transcript", 50), ("r3", "merged", 30)]  # fmt: skip
        # the merged request's inputs sit at its time: one partition
        assert store.scalar("SELECT uniqExact(_partition_id) FROM request_copies WHERE request_key = 'r3'") == 1

        flt = RequestFilter.build(tz="UTC")
        body = usage(store, ["session"], flt, Pricing(mode="auto"))
        assert body["totals"]["requests"] == 3 and body["totals"]["output_tokens"] == 180
        by_session = {r["session"]: r for r in body["rows"]}
        assert by_session["s3"]["reported_cost_usd"] == 0.0011 and by_session["s1"]["reported_cost_usd"] == 0.0045
        assert usage(store, ["session"], flt, Pricing(mode="auto"), use_rollup=False).to_dict() == body.to_dict()
        rollup = store.rows("SELECT sum(requests) AS n, sum(output_tokens) AS out FROM usage_hourly")[0]
        assert (rollup["n"], rollup["out"]) == (3, 180)
        days = store.rows("SELECT toDate(day) AS d, sum(requests) AS n, sum(output_tokens) AS out FROM usage_daily "
                          "GROUP BY d ORDER BY d")  # fmt: skip
        assert [(r["d"].isoformat(), r["n"], r["out"]) for r in days] == [("2026-10-31", 3, 180)]

        assert migrate(store) == []  # once
        prepare(store, Settings(database=database))  # and a second start changes nothing
        assert usage(store, ["session"], flt, Pricing(mode="auto")).to_dict() == body.to_dict()
    finally:
        store.command(f"DROP DATABASE IF EXISTS `{database}`")
        store.close()


def test_a_store_before_the_daily_rollup_gets_its_days(engine_url):
    database = new_database()
    store = Store(engine_url, database)
    try:
        migrate_to(14, store)
        store.insert_plain("ingest_state", {"key": ["rollup_built"], "value": ["1"]})  # as a start before 0015 left it
        columns = ["timestamp", "agent_product", "session_id", "request_key", "model", "input_tokens", "output_tokens",
                   "source", "source_priority"]  # fmt: skip
        insert_copies(
            store,
            [
                [T, "claude_code", "s1", "r1", "claude-sonnet-4-5", 100, 10, "otel", 2],
                [T_NEXT, "claude_code", "s1", "r2", "claude-sonnet-4-5", 200, 20, "otel", 2],
                [T_NEXT, "claude_code", "s2", "r3", "claude-haiku-4-5", 300, 30, "otel", 2],
            ],
            columns,
        )
        assert store.scalar("SELECT sum(requests) FROM usage_hourly") == 3

        assert [m.version for m in migrate(store)] == [15]
        prepare(store, Settings(database=database))
        days = store.rows("SELECT toDate(day) AS d, session_id, sum(requests) AS n, sum(input_tokens) AS i "
                          "FROM usage_daily GROUP BY d, session_id ORDER BY d, session_id")  # fmt: skip
        assert [tuple(r.values()) for r in days] == [(T.date(), "s1", 1, 100), (T_NEXT.date(), "s1", 1, 200),
                                                     (T_NEXT.date(), "s2", 1, 300)]  # fmt: skip
        flt = RequestFilter.build(tz="UTC")
        assert usage(store, ["session"], flt).to_dict() == usage(store, ["session"], flt, use_rollup=False).to_dict()
    finally:
        store.command(f"DROP DATABASE IF EXISTS `{database}`")
        store.close()

"""The migrations rendered for a cluster (``CCTELEMETRY_CLUSTER``, store/cluster.py): every statement parsed by the
engine (``formatQuery``: ClickHouse's own parser, the same release as the server's), and the shape a cluster
needs: ON CLUSTER everywhere, Replicated engines only, the growing tables sharded by session behind Distributed
tables of their own names, the small ones replicated to every node, materialized views over the local tables.

(No cluster runs here: a Keeper and several servers cannot. What runs is the parser, on every statement.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cctelemetry.store.cluster import SHARD_KEYS, ClusterDDL
from cctelemetry.store.migrate import load_migrations, rendered

CLUSTER, DATABASE = "analytics", "otel"
EVERYWHERE = {"schema_migrations", "model_prices", "model_prices_next", "model_price_matches",
              "model_price_matches_next", "transcript_files", "request_resources", "ingest_state"}  # fmt: skip
CREATED = re.compile(r"^CREATE TABLE IF NOT EXISTS (\w+)\b", re.M)
ENGINE = re.compile(r"\bENGINE = (\w+)\(")


@pytest.fixture(scope="module")
def statements() -> list[str]:
    ledger, files = rendered(DATABASE, cluster=CLUSTER)
    return ledger + [s for _, rendered_file in files for s in rendered_file]


def test_the_engine_parses_every_statement(store, statements):
    for statement in statements:
        formatted = store.scalar("SELECT formatQuery({q:String})", {"q": statement})
        if not statement.lstrip().startswith(("INSERT", "--")):
            assert f"ON CLUSTER {CLUSTER}" in formatted, statement[:200]


def test_replicated_engines_only(statements):
    for statement in statements:
        for engine in ENGINE.findall(statement):
            assert engine.startswith("Replicated") or engine == "Distributed", statement[:200]
        if "Replicated" in statement:
            assert "'{replica}'" in statement and ("/{shard}/" in statement or "/all/" in statement)


def test_growing_tables_are_sharded_by_session_and_small_ones_everywhere(statements):
    single = {t for _, file in rendered(DATABASE)[1] for s in file for t in CREATED.findall(s)}
    created = {t: s for s in statements for t in CREATED.findall(s)}
    assert set(SHARD_KEYS) <= single, "every sharding key is for a table the migrations make"
    for table in single:
        if table in SHARD_KEYS:
            local, distributed = created[f"{table}_local"], created[table]
            assert "/clickhouse/tables/{shard}/{database}/{table}" in local
            assert (f"AS {table}_local\nENGINE = Distributed('{CLUSTER}', '{DATABASE}', '{table}_local', "
                    f"{SHARD_KEYS[table]})") in distributed  # fmt: skip
            assert "session" in SHARD_KEYS[table] or "TraceId" in SHARD_KEYS[table]
        else:
            assert f"{table}_local" not in created
            assert "/clickhouse/tables/all/{database}/{table}" in created[table], table
    assert {t for t in created if t not in SHARD_KEYS and not t.endswith("_local")} >= EVERYWHERE
    for table in ("request_copies", "api_request_inbox", "usage_hourly", "usage_daily", "otel_logs", "agent_events"):
        assert table in SHARD_KEYS


def test_materialized_views_run_on_every_node_over_local_tables(statements):
    views = [s for s in statements if s.startswith("CREATE MATERIALIZED VIEW")]
    assert len(views) >= 8
    for view in views:
        target = re.search(r" TO (\w+)\n", view).group(1)
        sources = re.findall(r"\bFROM (\w+)", view)
        assert sources and all(s.endswith("_local") for s in sources), view[:120]
        assert target.endswith("_local") or target not in SHARD_KEYS


def test_one_server_renders_the_files_as_written():
    _, files = rendered(DATABASE)
    assert [s for _, f in files for s in f] == [s for m in load_migrations() for s in m.statements(72, 400)]


@pytest.mark.parametrize("statement", ["CREATE VIEW v AS SELECT 1", "RENAME TABLE a TO b",
                                       "CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = Memory",
                                       "CREATE TABLE IF NOT EXISTS t2 AS unknown_table"])  # fmt: skip
def test_an_unknown_shape_is_an_error_not_a_guess(statement):
    with pytest.raises(ValueError):
        ClusterDDL(CLUSTER, DATABASE).render(statement)


def test_a_bad_cluster_name_is_refused():
    with pytest.raises(ValueError, match="not a cluster name"):
        ClusterDDL("a`; DROP", DATABASE)


def test_migrate_print_sql_for_a_cluster(store, tmp_path):
    cli = Path(sys.executable).with_name("cctelemetry")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    env.update(CCTELEMETRY_CLUSTER=CLUSTER, CCTELEMETRY_DATA_DIR=str(tmp_path / "none"))
    out = subprocess.run([str(cli), "migrate", "--print-sql"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / "none").exists(), "printing creates no store"
    printed = [s.strip() for s in out.stdout.split(";\n") if s.strip() and not s.strip().startswith("-- 0")]
    assert len(printed) > 30 and "-- 0010_request_facts_and_rollups" in out.stdout
    for statement in printed:
        body = "\n".join(line for line in statement.splitlines() if not re.match(r"^-- \d{4}_", line))
        store.scalar("SELECT formatQuery({q:String})", {"q": body})

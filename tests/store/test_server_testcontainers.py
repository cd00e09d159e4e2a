"""The store against a real ClickHouse server in Docker (testcontainers): migrations, the
exporter's inserts and the materialized views, as test_server_backend.py checks them against
the shim.

Skipped, with the reason, when testcontainers is not installed or no Docker engine answers.
Install: ``pip install 'testcontainers[clickhouse]'``.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from cctelemetry.store import Store
from cctelemetry.store.migrate import load_migrations, migrate
from otel_rows import OTEL_LOGS_COLUMNS, assert_views_filled, sample_rows

pytestmark = pytest.mark.server

clickhouse_module = pytest.importorskip(
    "testcontainers.community.clickhouse", reason="testcontainers[clickhouse] is not installed"
)
docker = pytest.importorskip("docker", reason="the docker package (a testcontainers dependency) is not installed")

IMAGE = "clickhouse/clickhouse-server:26.9"
USER, PASSWORD, DATABASE = "writer", "p@ss:w/rd", "otel"  # the password needs percent-encoding


def _require_docker_engine() -> None:
    try:
        client = docker.from_env(timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means: no engine to run the container
        pytest.skip(f"no Docker engine answers ({type(exc).__name__}: {exc})")


@pytest.fixture(scope="module")
def server_url():
    _require_docker_engine()
    container = clickhouse_module.ClickHouseContainer(IMAGE, username=USER, password=PASSWORD, dbname=DATABASE)
    with container:
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(8123))
        yield f"http://{quote(USER, safe='')}:{quote(PASSWORD, safe='')}@{host}:{port}/{DATABASE}"


def test_migrate_insert_and_views_on_a_real_server(server_url):
    store = Store(server_url, DATABASE)
    try:
        assert [m.version for m in migrate(store)] == [m.version for m in load_migrations()]
        assert migrate(store) == []  # idempotent
        rows = sample_rows()
        assert store.insert("otel_logs", rows, OTEL_LOGS_COLUMNS) == len(rows)
        assert store.scalar("SELECT count() FROM otel_logs") == len(rows)
        assert_views_filled(store)
    finally:
        store.close()

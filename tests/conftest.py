"""Shared fixtures.

chdb opens one data folder per process, so the whole pytest process shares one embedded engine
(``engine_path``) and every test gets a database of its own (``store``), migrated from migrations/.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from cctelemetry.store import Store
from cctelemetry.store.migrate import migrate

DATA = Path(__file__).parent / "data"

_ENGINE_DIR = tempfile.mkdtemp(prefix="cctelemetry-test-engine-")
# The API app and the CLI read settings from the environment: point them at the shared engine.
os.environ.setdefault("CCTELEMETRY_DATA_DIR", _ENGINE_DIR)


@pytest.fixture(scope="session")
def engine_url() -> str:
    return f"chdb://{_ENGINE_DIR}"


def new_database() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def database() -> str:
    return new_database()


def open_store(url: str, database: str, **migrate_args) -> Store:
    s = Store(url, database)
    migrate(s, **migrate_args)
    return s


@pytest.fixture
def store(engine_url: str, database: str) -> Store:
    s = open_store(engine_url, database)
    yield s
    s.command(f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture
def settings(database):
    from cctelemetry.config import Settings

    return Settings(database=database, tz="UTC", write_flush_ms=5)


def make_state(store, settings):
    from cctelemetry.api.state import ServiceState
    from cctelemetry.ingest import BatchWriter

    return ServiceState(settings=settings, store=store, writer=BatchWriter(store, flush_ms=settings.write_flush_ms))


@contextmanager
def api_client(state):
    """The whole API (OTLP receiver + reports) over one state's database."""
    from fastapi.testclient import TestClient

    from cctelemetry.api.app import create_app

    try:
        with TestClient(create_app(state.settings, state)) as c:
            yield c
    finally:
        state.writer.close()


@pytest.fixture
def service_state(store, settings):
    return make_state(store, settings)


@pytest.fixture
def client(service_state):
    with api_client(service_state) as c:
        yield c


@pytest.fixture(scope="module")
def replayed_client(engine_url):
    """One database per module with every captured Claude Code body posted once (read-only tests)."""
    from cctelemetry.config import Settings

    database = new_database()
    store = open_store(engine_url, database)
    with api_client(make_state(store, Settings(database=database, tz="UTC", write_flush_ms=5))) as c:
        post_fixtures(c)
        yield c
    store.command(f"DROP DATABASE IF EXISTS `{database}`")


FIXTURES = DATA / "claude-code-2.1.197"


def fixture_bodies(run: str | None = None):
    """(run, signal, body, content_type) for every captured OTLP body, protobuf as raw .pb."""
    for path in sorted((FIXTURES / "otlp").glob("*/*")):
        if path.name.endswith((".meta.json", ".pb.json")):
            continue
        if run and path.parent.name != run:
            continue
        signal = path.name.split("-")[0]
        content_type = "application/x-protobuf" if path.suffix == ".pb" else "application/json"
        yield path.parent.name, signal, path.read_bytes(), content_type


def post_fixtures(client, run: str | None = None) -> int:
    n = 0
    for _, signal, body, content_type in fixture_bodies(run):
        r = client.post(f"/v1/{signal}", content=body, headers={"Content-Type": content_type})
        assert r.status_code == 200, r.text
        n += 1
    return n

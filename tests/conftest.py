"""Shared fixtures.

chdb opens one data folder per process, so the whole pytest process shares one embedded engine
(``engine_path``) and every test gets a database of its own (``store``), migrated from migrations/.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from cctelemetry.store import Store
from cctelemetry.store.migrate import migrate

# tests/support is not a package: its helpers are importable from every test folder.
_SUPPORT = str(Path(__file__).resolve().parent / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)

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
    """A store ready as the service makes it at start: migrated, the price book synced, the views made."""
    from cctelemetry.config import Settings
    from cctelemetry.pricing import current_book, sync_prices
    from cctelemetry.reports.views import create_views

    s = Store(url, database)
    migrate(s, **migrate_args)
    sync_prices(s, current_book())
    create_views(s, Settings(database=database, tz="UTC"))
    return s


@pytest.fixture
def store(engine_url: str, database: str) -> Store:
    s = open_store(engine_url, database)
    yield s
    s.command(f"DROP DATABASE IF EXISTS `{database}`")
    s.close()


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


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_service(state):
    """The whole app over ``state`` served by uvicorn on a free 127.0.0.1 port, in a thread of this process
    (the embedded engine is per process): a real HTTP service for the CLI and clients to talk to."""
    import threading
    import time

    import uvicorn

    from cctelemetry.api.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(state.settings, state), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test service did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


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


def pytest_collection_modifyitems(config, items):
    """The long fuzzing run only when asked for by name (``-m fuzz_long``, ``make fuzz-long``)."""
    if "fuzz_long" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="the long fuzzing run: pytest -m fuzz_long (make fuzz-long)")
    for item in items:
        if "fuzz_long" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def api_schema(replayed_client):
    """The app's own OpenAPI schema, for schemathesis, served by the app over the replayed captures."""
    import schemathesis

    return schemathesis.openapi.from_asgi("/openapi.json", replayed_client.app)

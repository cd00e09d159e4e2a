"""Shared fixtures.

chdb opens one data folder per process, so the whole pytest process shares one embedded engine
(``engine_path``) and every test gets a database of its own (``store``), migrated from migrations/.
"""

from __future__ import annotations

import os
import tempfile
import uuid
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


@pytest.fixture
def database() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def store(engine_url: str, database: str) -> Store:
    s = Store(engine_url, database)
    migrate(s)
    yield s
    s.command(f"DROP DATABASE IF EXISTS `{database}`")

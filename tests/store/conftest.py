"""Fixtures for the store's server (HTTP) backend: a ClickHouse-compatible HTTP endpoint
(tests/support/chshim.py) in front of a real ClickHouse engine running in a subprocess of its own,
with the stack's users (tests/support/stack_users.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# tests/support is not a package: make it importable whatever pytest's import mode is.
_SUPPORT = str(Path(__file__).resolve().parents[1] / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)

pytest.register_assert_rewrite("otel_rows")

from chshim import ChShim  # noqa: E402 - found through the sys.path entry above
from stack_users import SHIM_USERS, writer_url  # noqa: E402 - found through the sys.path entry above


def _bypass_proxies_for_localhost() -> None:
    """clickhouse-connect honours http_proxy: make sure 127.0.0.1 is reached directly."""
    if not any(os.environ.get(v) for v in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY")):
        return
    for var in ("no_proxy", "NO_PROXY"):
        entries = [e for e in os.environ.get(var, "").split(",") if e]
        if "127.0.0.1" not in entries:
            os.environ[var] = ",".join([*entries, "127.0.0.1"])


@pytest.fixture(scope="session")
def chshim():
    """The shared server: started once (a free 127.0.0.1 port, bounded wait for /ping), stopped
    and its data removed at the end of the session."""
    _bypass_proxies_for_localhost()
    with ChShim(users=SHIM_USERS) as shim:
        yield shim


@pytest.fixture
def own_chshim():
    """A server of the test's own, for tests that stop and restart it."""
    _bypass_proxies_for_localhost()
    with ChShim(users=SHIM_USERS) as shim:
        yield shim


@pytest.fixture
def server_store(chshim, database):
    """A migrated database of the test's own on the server, through the writer's URL."""
    from conftest import open_store

    s = open_store(writer_url(chshim, database), database)
    yield s
    s.command(f"DROP DATABASE IF EXISTS `{database}`")
    s.close()

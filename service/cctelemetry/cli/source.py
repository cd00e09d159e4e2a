"""Where the CLI gets its answers: a running service (through the thin client), or the store itself
(through the report layer, in this process). Both answer the same methods with the same JSON.

Which one, in order:
1. ``--api-url`` or ``CCTELEMETRY_API_URL``: that service, and only it. If it does not answer, that is the
   error (one line, exit 1): the CLI never falls back to reading some other data.
2. The service recorded in the data folder (``service.json``, written by ``cctelemetry serve``), which holds
   the folder's lock while it runs.
3. When no data folder was chosen: a service answering at the default address (an older service, or one
   in Docker).
4. The store itself, which must exist: a mistyped ``--data-dir`` is an error, never a new empty store.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

from .. import runtime
from ..client import Client
from ..config import Settings
from ..errors import StoreUnavailable


def open_source(settings: Settings, api_url: str | None = None, data_dir_given: bool = False):
    return find_service(settings, api_url, data_dir_given) or local_reports(settings)


def find_service(settings: Settings, api_url: str | None = None, data_dir_given: bool = False) -> Client | None:
    """The running service to ask (rules 1-3 above), or None when the store is to be opened here."""
    explicit = api_url or os.environ.get("CCTELEMETRY_API_URL") or ""
    if explicit:
        client = Client(explicit, token=settings_token(settings))
        client.get("/healthz", timeout=5)  # unreachable: StoreUnavailable, one line
        return client
    recorded = runtime.read(settings.data_dir)
    if recorded:
        client = Client(recorded["api_url"], token=settings_token(settings))
        if not client.healthy(timeout=5):
            raise StoreUnavailable(
                f"the service (pid {recorded['pid']}) of {settings.data_dir} does not answer at {recorded['api_url']}; "
                "it may be starting or stuck (see its log)"
            )
        return client
    default = settings.resolved_api_url()
    if not data_dir_given and not _custom_data_dir() and _listening(default):
        client = Client(default, token=settings_token(settings))
        if client.healthy():
            return client
    return None


def local_reports(settings: Settings):
    """The report layer over the store in this process: no web app, no writer thread."""
    from ..bootstrap import open_store, prepare
    from ..reports.catalog import Reports

    store = open_store(settings)
    prepare(store, settings)
    return Reports(store, settings)


def describe(source) -> str:
    if isinstance(source, Client):
        return f"service at {source.url}"
    return f"data in {source.store.target.describe()}"


def settings_token(settings: Settings) -> str | None:
    """The token the CLI sends: CCTELEMETRY_API_TOKEN (or its file), else the first read-only token."""
    from ..security import Tokens

    tokens = Tokens.from_settings(settings)
    return (tokens.write or tokens.read or (None,))[0]


def _custom_data_dir() -> bool:
    return bool(os.environ.get("CCTELEMETRY_DATA_DIR"))


def _listening(url: str) -> bool:
    """A plain connect: nothing listening is the common case, and says so in microseconds."""
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=0.3).close()
    except OSError:
        return False
    return True


__all__ = ["open_source", "local_reports", "describe"]

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

import socket
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .. import locate, runtime
from ..client import Client
from ..errors import StoreUnavailable

if TYPE_CHECKING:  # the settings model is built only when the store is opened here (pydantic: ~150 ms)
    from ..config import Settings


def open_source(data_dir: Path | None = None, api_url: str | None = None):
    """The running service, else the report layer over the store (``data_dir`` given: that folder's)."""
    service = locate_service(data_dir, api_url)
    if service is not None:
        return service
    from .options import settings_for

    return local_reports(settings_for(data_dir))


def find_service(settings: Settings, api_url: str | None = None, data_dir_given: bool = False) -> Client | None:
    return locate_service(settings.data_dir if data_dir_given else None, api_url)


def locate_service(data_dir: Path | None = None, api_url: str | None = None) -> Client | None:
    """The running service to ask (rules 1-3 above), or None when the store is to be opened here. Reads the
    few settings it needs without the settings model (locate.py), so a report from a service starts fast."""
    env = locate.environment()
    token = locate.client_token(env)
    explicit = api_url or env.get("CCTELEMETRY_API_URL") or ""
    if explicit:
        client = Client(explicit, token=token)
        client.get("/healthz", timeout=5)  # unreachable: StoreUnavailable, one line
        return client
    folder = Path(data_dir).expanduser() if data_dir is not None else Path(locate.data_dir(env))
    recorded = runtime.read(folder)
    if recorded:
        client = Client(recorded["api_url"], token=token)
        if not client.healthy(timeout=5):
            raise StoreUnavailable(
                f"the service (pid {recorded['pid']}) of {folder} does not answer at {recorded['api_url']}; "
                "it may be starting or stuck (see its log)"
            )
        return client
    default = locate.default_api_url(env)
    if data_dir is None and not env.get("CCTELEMETRY_DATA_DIR") and _listening(default):
        client = Client(default, token=token)
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


def _listening(url: str) -> bool:
    """A plain connect: nothing listening is the common case, and says so in microseconds."""
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=0.3).close()
    except OSError:
        return False
    return True


__all__ = ["open_source", "find_service", "locate_service", "local_reports", "describe"]

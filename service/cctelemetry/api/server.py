"""Run the service: one process, one store, the same app on the API port and the OTLP port.

While it runs, ``service.json`` in the data folder says where (runtime.py): the CLI and the installer find
the service from it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket

import uvicorn

from .. import runtime
from ..config import Settings
from ..errors import BadRequest
from .app import create_app
from .state import ServiceState

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    ports = list(dict.fromkeys([settings.api_port, settings.otlp_port]))
    for port in ports:
        check_port_free(settings.host, port)
    state = ServiceState.open(settings)
    app = create_app(settings, state)
    servers = [
        uvicorn.Server(uvicorn.Config(app, host=settings.host, port=port, log_level="warning", access_log=False))
        for port in ports
    ]
    info = {"api_url": f"http://{_client_host(settings.host)}:{settings.api_port}", "host": settings.host,
            "api_port": settings.api_port, "otlp_port": settings.otlp_port,
            "data_dir": str(settings.data_dir.expanduser()), "store": state.store.target.describe()}  # fmt: skip
    log.info("serving", extra=info)
    runtime.write(settings.data_dir, info)
    # uvicorn stops on SIGINT/SIGTERM and then raises the signal again with the handler it found: make that
    # handler an exit, so the writer's last rows are flushed and service.json removed (not a bare kill).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_on_signal)
    try:
        asyncio.run(_serve_all(servers))
    except SystemExit:
        pass
    finally:
        runtime.remove(settings.data_dir)
        state.close()
        log.info("stopped")


def _exit_on_signal(signum, frame) -> None:
    raise SystemExit(0)


def check_port_free(host: str, port: int) -> None:
    """A port already taken is a one-line error naming it, before the store is opened."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise BadRequest(f"cannot listen on {host}:{port}: {exc.strerror or exc} (another service? choose "
                             "another port with --api-port / --otlp-port or CCTELEMETRY_API_PORT / "
                             "CCTELEMETRY_OTLP_PORT)") from exc  # fmt: skip


def _client_host(host: str) -> str:
    """Where a client on this machine reaches a service listening on ``host``."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


async def _serve_all(servers: list[uvicorn.Server]) -> None:
    await asyncio.gather(*(s.serve() for s in servers))

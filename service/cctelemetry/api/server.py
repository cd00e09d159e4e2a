"""Run the service: one process, one store, the same app on the API port and the OTLP/HTTP port, and the
OTLP/gRPC receiver on its own port, all writing through the one BatchWriter.

While it runs, ``service.json`` in the data folder says where (runtime.py): the CLI and the installer find
the service from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from functools import partial

import uvicorn

from .. import runtime
from ..config import Settings
from ..ingest.outcome import map_request
from ..security import check_bind
from .app import create_app
from .metrics_listener import MetricsListener
from .otlp_grpc import OtlpGrpcServer
from .ports import ensure_ports_free, serves_metrics_port
from .service_metrics import GrpcStatusInterceptor
from .state import ServiceState

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    tokens = check_bind(settings)  # no token on a network address: one clear error, before anything opens
    ensure_ports_free(settings)  # before the store opens: a busy port is one clear error, at once
    state = ServiceState.open(settings)
    app = create_app(settings, state)
    servers: list[uvicorn.Server] = [
        _Server(uvicorn.Config(app, host=settings.host, port=port, log_level="warning", access_log=False))
        for port in dict.fromkeys([settings.api_port, settings.otlp_port])
    ]
    grpc_server = metrics_listener = None
    try:
        if settings.grpc_port:
            grpc_server = OtlpGrpcServer(
                state.writer,
                settings.host,
                settings.grpc_port,
                settings.max_body_bytes,
                interceptors=[GrpcStatusInterceptor(state.metrics)],
                map_rows=partial(map_request, policy=state.policy),
                tokens=tokens,
                policy=state.policy,
            ).start()
        if serves_metrics_port(settings):
            metrics_listener = MetricsListener(state.metrics.registry, settings.host, settings.metrics_port)
        info = {"api_url": f"http://{client_host(settings.host)}:{settings.api_port}", "host": settings.host,
                "api_port": settings.api_port, "otlp_port": settings.otlp_port,
                "grpc_port": settings.grpc_port if grpc_server else 0,
                "metrics_port": metrics_listener.port if metrics_listener else 0,
                "data_dir": str(settings.data_dir.expanduser()), "store": state.store.target.describe(),
                "auth": "token" if tokens.enabled else "none"}  # fmt: skip
        log.info("serving", extra=info)
        runtime.write(settings.data_dir, info)
        # What start-up loaded (FastAPI, pydantic's models, the engine's bindings: hundreds of thousands of
        # objects) lives as long as the process: left out of the collector's full passes, which a report
        # making thousands of rows sets off (blocks over a 1M-request store: 10-15% of its time)
        gc.freeze()
        asyncio.run(_serve_all(servers))
    finally:
        runtime.remove(settings.data_dir)
        if metrics_listener is not None:
            metrics_listener.stop()
        if grpc_server is not None:
            grpc_server.stop()
        state.close()
        log.info("stopped")


def client_host(host: str) -> str:
    """Where a client on this machine reaches a service listening on ``host``."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class _Server(uvicorn.Server):
    """uvicorn's own signal capture re-raises SIGTERM once it has shut down, which kills the process before
    serve() can stop the gRPC server and close the writer: _serve_all handles the signals instead."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


async def _serve_all(servers: list[uvicorn.Server]) -> None:
    def stop() -> None:
        for server in servers:
            server.force_exit = server.should_exit  # a second signal: do not wait for open connections
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(s.serve() for s in servers))

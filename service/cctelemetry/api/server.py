"""Run the service: one process, one store, the same app on the API port and the OTLP port."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from ..config import Settings
from .app import create_app
from .state import ServiceState

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    state = ServiceState.open(settings)
    app = create_app(settings, state)
    servers = [
        uvicorn.Server(uvicorn.Config(app, host=settings.host, port=port, log_level="warning", access_log=False))
        for port in dict.fromkeys([settings.api_port, settings.otlp_port])
    ]
    log.info("serving", extra={"api": f"http://{settings.host}:{settings.api_port}",
                               "otlp": f"http://{settings.host}:{settings.otlp_port}",
                               "store": state.store.target.describe()})  # fmt: skip
    try:
        asyncio.run(_serve_all(servers))
    finally:
        state.close()


async def _serve_all(servers: list[uvicorn.Server]) -> None:
    await asyncio.gather(*(s.serve() for s in servers))

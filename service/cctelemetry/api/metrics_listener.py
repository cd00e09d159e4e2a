"""Prometheus ``/metrics`` on a port of its own (``CCTELEMETRY_METRICS_PORT``, 8889), where the stack's
collector serves it, so a widget that polls the collector's port works unchanged against the embedded service.
prometheus_client's own HTTP server, on its own thread; a watcher of the service (``stop()``)."""

from __future__ import annotations

import logging

from prometheus_client import start_http_server

from .ports import PortInUse

log = logging.getLogger(__name__)


class MetricsListener:
    def __init__(self, registry, host: str, port: int):
        try:
            self.server, self.thread = start_http_server(port, addr=host, registry=registry)
        except OSError as exc:
            raise PortInUse(f"Prometheus metrics cannot listen on {host}:{port}: {exc.strerror or exc} "
                            "(--metrics-port or CCTELEMETRY_METRICS_PORT; 0 turns it off)") from exc  # fmt: skip
        self.port = self.server.server_address[1]
        log.info("metrics listening", extra={"address": f"{host}:{self.port}"})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

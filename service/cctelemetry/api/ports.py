"""Before the service opens its store: every port it will listen on must be free, or one clear error."""

from __future__ import annotations

import errno
import socket

from ..config import Settings
from ..errors import TelemetryError


class PortInUse(TelemetryError):
    code = "port_in_use"


# setting -> (what listens there, how to change it)
PORT_SETTINGS = {
    "api_port": ("the REST API", "--api-port or CCTELEMETRY_API_PORT"),
    "otlp_port": ("OTLP/HTTP", "--otlp-port or CCTELEMETRY_OTLP_PORT"),
    "grpc_port": ("OTLP/gRPC", "--grpc-port or CCTELEMETRY_GRPC_PORT (0 turns gRPC off)"),
    "metrics_port": ("Prometheus metrics", "--metrics-port or CCTELEMETRY_METRICS_PORT (0 turns it off)"),
}


def serves_metrics_port(settings: Settings) -> bool:
    """The metrics port is the embedded service's: in the stack the collector serves Prometheus there."""
    return bool(settings.metrics_port) and settings.resolved_clickhouse_url().startswith("chdb://")


def ensure_ports_free(settings: Settings) -> None:
    """Raise PortInUse naming the first busy port and the setting that chose it (port 0 is off or any)."""
    if settings.grpc_port and settings.grpc_port in (settings.api_port, settings.otlp_port):
        # the API and OTLP/HTTP may share a port (one app), gRPC may not
        raise PortInUse(f"port {settings.grpc_port} is set for OTLP/gRPC and for HTTP: give gRPC a port of its own "
                        f"with {PORT_SETTINGS['grpc_port'][1]}")  # fmt: skip
    if serves_metrics_port(settings) and settings.metrics_port in (
        settings.api_port,
        settings.otlp_port,
        settings.grpc_port,
    ):
        raise PortInUse(f"port {settings.metrics_port} is set for Prometheus metrics and for another listener: give "
                        f"it a port of its own with {PORT_SETTINGS['metrics_port'][1]}")  # fmt: skip
    for name, (what, setting) in PORT_SETTINGS.items():
        port = getattr(settings, name)
        if name == "metrics_port" and not serves_metrics_port(settings):
            continue
        if port and not port_is_free(settings.host, port):
            raise PortInUse(
                f"port {port} on {settings.host} is already in use, so {what} cannot listen there: "
                f"stop what uses it or pick another port with {setting}"
            )


def port_is_free(host: str, port: int) -> bool:
    """Bind as the servers will (SO_REUSEADDR, so a connection in TIME_WAIT does not count as busy)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror:
        return True  # not ours to judge: the server reports an unknown host itself
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            # anything else (no such address here, a privileged port) the server reports itself
            return exc.errno != errno.EADDRINUSE
    return True

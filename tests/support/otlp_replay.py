"""Replay captured OTLP/JSON exports over a transport: HTTP/JSON and HTTP/protobuf here; any object with
``name`` and ``send(signal, export)`` plugs in (a gRPC transport calls the collector services with the same
protobuf messages ``to_protobuf`` builds).

The protobuf bodies are made by the official OTLP protos from the captured JSON (ids hex in OTLP/JSON,
bytes in protobuf), independently of the service's own decoder.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

MESSAGES = {
    "logs": ExportLogsServiceRequest,
    "metrics": ExportMetricsServiceRequest,
    "traces": ExportTraceServiceRequest,
}
_ID_KEYS = {"traceId", "spanId", "parentSpanId"}


def exports(run_dir: Path) -> Iterator[tuple[str, dict]]:
    """(signal, export as parsed JSON) for every captured ``<signal>-NNN.json`` of a run, in order."""
    for path in sorted(run_dir.glob("*-*.json")):
        if path.name.endswith(".meta.json"):
            continue
        yield path.name.split("-")[0], json.loads(path.read_bytes())


def _ids_to_base64(value):
    if isinstance(value, dict):
        return {k: (base64.b64encode(binascii.unhexlify(v)).decode() if k in _ID_KEYS and isinstance(v, str)
                    else _ids_to_base64(v)) for k, v in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [_ids_to_base64(v) for v in value]
    return value


def to_protobuf(signal: str, export: dict):
    message = MESSAGES[signal]()
    json_format.ParseDict(_ids_to_base64(export), message, ignore_unknown_fields=True)
    return message


class Transport(Protocol):
    name: str

    def send(self, signal: str, export: dict) -> None: ...


class HttpJson:
    name = "http/json"

    def __init__(self, client):
        self.client = client

    def send(self, signal: str, export: dict) -> None:
        r = self.client.post(f"/v1/{signal}", content=json.dumps(export), headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text


class HttpProtobuf:
    name = "http/protobuf"

    def __init__(self, client):
        self.client = client

    def send(self, signal: str, export: dict) -> None:
        body = to_protobuf(signal, export).SerializeToString()
        r = self.client.post(f"/v1/{signal}", content=body, headers={"Content-Type": "application/x-protobuf"})
        assert r.status_code == 200, r.text


# name -> factory(client); a gRPC transport registers here once the receiver exists
TRANSPORTS = {"http/json": HttpJson, "http/protobuf": HttpProtobuf}


def replay(transport: Transport, run_dir: Path) -> int:
    n = 0
    for signal, export in exports(run_dir):
        transport.send(signal, export)
        n += 1
    return n

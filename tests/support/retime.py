"""Captured OTLP bodies moved in time: every timestamp shifted so the capture's last moment lands at a chosen
instant (the budget tests need their replay inside today's period). JSON bodies are shifted as JSON, protobuf
bodies through the proto classes (decoded, shifted, encoded again): the same bytes a client would send then."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

MESSAGES = {"logs": ExportLogsServiceRequest, "metrics": ExportMetricsServiceRequest,
            "traces": ExportTraceServiceRequest}  # fmt: skip
NANO_KEYS = ("timeUnixNano", "startTimeUnixNano", "observedTimeUnixNano", "endTimeUnixNano")


def as_dict(signal: str, body: bytes, content_type: str) -> dict:
    if content_type == "application/json":
        return json.loads(body)
    message = MESSAGES[signal]()
    message.ParseFromString(body)
    return json_format.MessageToDict(message)


def latest_nanos(bodies) -> int:
    """The last timestamp of every (signal, body, content_type)."""
    found = [0]

    def visit(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in NANO_KEYS and str(value).isdigit() and int(value) > 0:
                    found.append(int(value))
                else:
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    for signal, body, content_type in bodies:
        visit(as_dict(signal, body, content_type))
    return max(found)


def shift(signal: str, body: bytes, content_type: str, delta: timedelta) -> bytes:
    nanos = int(delta.total_seconds() * 1e9)

    def move(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key in NANO_KEYS and str(value).isdigit() and int(value) > 0:
                    out[key] = type(value)(int(value) + nanos) if isinstance(value, int) else str(int(value) + nanos)
                elif key == "key" and node.get("key") == "event.timestamp":
                    out[key] = value
                else:
                    out[key] = move(value)
            if node.get("key") == "event.timestamp" and "stringValue" in (node.get("value") or {}):
                moment = datetime.fromisoformat(node["value"]["stringValue"].replace("Z", "+00:00")) + delta
                out["value"] = {"stringValue": moment.astimezone(UTC).isoformat().replace("+00:00", "Z")}
            return out
        if isinstance(node, list):
            return [move(item) for item in node]
        return node

    moved = move(as_dict(signal, body, content_type))
    if content_type == "application/json":
        return json.dumps(moved).encode()
    return json_format.ParseDict(moved, MESSAGES[signal]()).SerializeToString()


def retimed(bodies: list[tuple[str, bytes, str]], last: datetime) -> list[tuple[str, bytes, str]]:
    """``bodies`` shifted so that their last timestamp is ``last``."""
    delta = last - datetime.fromtimestamp(latest_nanos(bodies) / 1e9, tz=UTC)
    return [(signal, shift(signal, body, ctype, delta), ctype) for signal, body, ctype in bodies]

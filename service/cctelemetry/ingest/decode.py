"""OTLP/HTTP bodies -> protobuf request messages, for protobuf and JSON encodings.

JSON is accepted as the spec writes it and as real clients send it: ``intValue`` as a number or a
string, enums as integers or names, trace/span ids as hex (spec) or base64 (protobuf JSON mapping).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from ..errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

REQUEST_TYPES: dict[str, type[Message]] = {
    "logs": ExportLogsServiceRequest,
    "metrics": ExportMetricsServiceRequest,
    "traces": ExportTraceServiceRequest,
}
RESPONSE_TYPES: dict[str, type[Message]] = {
    "logs": ExportLogsServiceResponse,
    "metrics": ExportMetricsServiceResponse,
    "traces": ExportTraceServiceResponse,
}

PROTOBUF_TYPES = {"application/x-protobuf", "application/protobuf"}
JSON_TYPES = {"application/json"}

# JSON keys whose values are ids: hex in OTLP/JSON, base64 in the generic protobuf JSON mapping.
_ID_KEYS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        data = body
    elif encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            raise BadRequest(f"cannot {encoding}-decode the body: {exc}") from exc
    else:
        raise UnsupportedMediaType(f"unsupported Content-Encoding {encoding!r}: use gzip or none")
    if len(data) > limit:
        raise PayloadTooLarge(f"body is larger than {limit} bytes after decompression")
    return data


def decode_request(signal: str, body: bytes, content_type: str | None, max_depth: int | None = None):
    """Parse an export request for ``signal`` (logs, metrics, traces); a JSON body may nest ``max_depth``
    levels (CCTELEMETRY_MAX_JSON_DEPTH, default MAX_JSON_DEPTH)."""
    message = REQUEST_TYPES[signal]()
    kind = media_type(content_type)
    if kind in PROTOBUF_TYPES:
        try:
            message.ParseFromString(body)
        except (DecodeError, RuntimeWarning, ValueError) as exc:
            raise BadRequest(f"cannot parse the protobuf {signal} export request: {exc}") from exc
        return message
    if kind in JSON_TYPES:
        try:
            doc = json.loads(body or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise BadRequest(f"the {signal} export request must be a JSON object")
        try:
            json_format.ParseDict(
                _ids_to_base64(doc, max_depth or MAX_JSON_DEPTH, max_depth or MAX_JSON_DEPTH),
                message,
                ignore_unknown_fields=True,
            )
        except (json_format.ParseError, RecursionError, TypeError, ValueError, OverflowError) as exc:
            raise BadRequest(f"not an OTLP {signal} export request: {str(exc)[:300]}") from exc
        return message
    raise UnsupportedMediaType(
        f"unsupported Content-Type {content_type!r}: use application/x-protobuf or application/json"
    )


# An OTLP/JSON export request is about 10 levels deep, and an AnyValue nests kvlists and arrays below
# that. Deeper bodies are refused with a 400 (Python's parsers recurse: past about a thousand levels they
# would fail with a RecursionError, which is caught too). The setting may not go past MAX_JSON_DEPTH_LIMIT.
MAX_JSON_DEPTH = 64
MAX_JSON_DEPTH_LIMIT = 400


def _ids_to_base64(node, depth_left: int, limit: int):
    """The document with ids as base64; refuses one nested deeper than ``depth_left``."""
    if isinstance(node, (dict, list)) and depth_left <= 0:
        raise BadRequest(f"the JSON body is nested more than {limit} levels deep (CCTELEMETRY_MAX_JSON_DEPTH)")
    if isinstance(node, dict):
        return {k: _id_value(k, v) if k in _ID_KEYS else _ids_to_base64(v, depth_left - 1, limit)
                for k, v in node.items()}  # fmt: skip
    if isinstance(node, list):
        return [_ids_to_base64(v, depth_left - 1, limit) for v in node]
    return node


def _id_value(key: str, value):
    """Hex (OTLP/JSON) or base64 (protobuf JSON mapping) -> base64 for ParseDict; wrong sizes are a 400."""
    if not isinstance(value, str) or value == "":
        return value
    size = _ID_KEYS[key]
    try:
        raw = binascii.unhexlify(value) if len(value) == 2 * size else base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"{key} {value!r} is neither hex nor base64") from exc
    if len(raw) != size:
        raise BadRequest(f"{key} {value!r} is not {size} bytes")
    return base64.b64encode(raw).decode()


def export_response(signal: str, content_type: str | None, response=None) -> tuple[bytes, str]:
    """The ExportServiceResponse (empty: all accepted, unless given), in the encoding the client used."""
    response = response if response is not None else RESPONSE_TYPES[signal]()
    if media_type(content_type) in JSON_TYPES:
        if not response.ByteSize():
            return b"{}", "application/json"
        return json_format.MessageToJson(response, indent=None).encode(), "application/json"
    return response.SerializeToString(), "application/x-protobuf"

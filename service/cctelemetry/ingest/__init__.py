"""The write path: OTLP bodies -> rows for the raw otel_* tables -> the batch writer.

``ingest_body`` is the one function every transport calls.
"""

from __future__ import annotations

from ..errors import BadRequest
from .decode import decode_request, decompress, export_response
from .mapping import TO_ROWS, Batch
from .outcome import DEFAULT_POLICY, Mapped, map_request, response_for
from .policy import IngestPolicy
from .writer import BatchWriter


def body_to_batch(signal: str, body: bytes, content_type: str | None, content_encoding: str | None,
                  max_bytes: int) -> Batch:
    """Decode one OTLP/HTTP body into rows. Raises BadRequest, UnsupportedMediaType, PayloadTooLarge."""
    data = decompress(body, content_encoding, max_bytes)
    message = decode_request(signal, data, content_type)
    try:
        return TO_ROWS[signal](message)
    except RecursionError as exc:  # an AnyValue nested past what a protobuf parser allows
        raise BadRequest(f"a {signal} attribute value is nested too deeply") from exc


def body_to_mapped(signal: str, body: bytes, content_type: str | None, content_encoding: str | None,
                   max_bytes: int, policy: IngestPolicy = DEFAULT_POLICY, max_json_depth: int | None = None) -> Mapped:
    """Decode one OTLP/HTTP body and map it under ``policy`` (outcome.map_request). Raises BadRequest,
    UnsupportedMediaType, PayloadTooLarge."""
    data = decompress(body, content_encoding, max_bytes)
    message = decode_request(signal, data, content_type, max_json_depth)
    try:
        return map_request(signal, message, policy)
    except RecursionError as exc:  # an AnyValue nested past what a protobuf parser allows
        raise BadRequest(f"a {signal} attribute value is nested too deeply") from exc


__all__ = ["BatchWriter", "IngestPolicy", "Mapped", "body_to_batch", "body_to_mapped", "export_response",
           "response_for"]

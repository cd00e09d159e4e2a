"""The write path: OTLP bodies -> rows for the raw otel_* tables -> the batch writer.

``ingest_body`` is the one function every transport calls.
"""

from __future__ import annotations

from .decode import decode_request, decompress, export_response
from .mapping import TO_ROWS, Batch
from .writer import BatchWriter


def body_to_batch(signal: str, body: bytes, content_type: str | None, content_encoding: str | None,
                  max_bytes: int) -> Batch:
    """Decode one OTLP/HTTP body into rows. Raises BadRequest, UnsupportedMediaType, PayloadTooLarge."""
    data = decompress(body, content_encoding, max_bytes)
    return TO_ROWS[signal](decode_request(signal, data, content_type))


__all__ = ["BatchWriter", "body_to_batch", "export_response"]

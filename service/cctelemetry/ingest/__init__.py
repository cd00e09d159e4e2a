"""The write path: OTLP bodies -> rows for the raw otel_* tables -> the batch writer.

``ingest_body`` is the one function every transport calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager

from ..errors import BadRequest
from .decode import PROTOBUF_TYPES, decode_request, decompress, export_response, media_type
from .mapping import TO_ROWS, Batch
from .outcome import DEFAULT_POLICY, Mapped, map_request, response_for
from .policy import IngestPolicy, check_size, count_items
from .raw_logs import RawBody, plain
from .writer import BatchWriter


def body_to_batch(
    signal: str, body: bytes, content_type: str | None, content_encoding: str | None, max_bytes: int
) -> Batch:
    """Decode one OTLP/HTTP body into rows. Raises BadRequest, UnsupportedMediaType, PayloadTooLarge."""
    data = decompress(body, content_encoding, max_bytes)
    message = decode_request(signal, data, content_type)
    with _nesting_checked(signal):
        return TO_ROWS[signal](message)


@contextmanager
def _nesting_checked(signal: str) -> Iterator[None]:
    """A RecursionError while mapping is an AnyValue nested past what a protobuf parser allows: bad input."""
    try:
        yield
    except RecursionError as exc:
        raise BadRequest(f"a {signal} attribute value is nested too deeply") from exc


def submit_body(
    writer: BatchWriter,
    signal: str,
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    max_bytes: int,
    policy: IngestPolicy = DEFAULT_POLICY,
    max_json_depth: int | None = None,
) -> Future:
    """Decode one OTLP body and hand it to the writer; the future resolves to its ``Mapped`` once it is
    acknowledged (journaled or stored). Raises BadRequest, UnsupportedMediaType, PayloadTooLarge, WriteQueueFull,
    StoreUnavailable. A protobuf logs body the policy has nothing to say about goes to the writer as it
    is, flattened by ClickHouse (raw_logs.py); everything else is mapped here by Python."""
    data = decompress(body, content_encoding, max_bytes)
    message = decode_request(signal, data, content_type, max_json_depth)
    return submit_message(writer, signal, message, data if media_type(content_type) in PROTOBUF_TYPES else None,
                          policy)  # fmt: skip


def submit_message(
    writer: BatchWriter, signal: str, message, data: bytes | None, policy: IngestPolicy = DEFAULT_POLICY
) -> Future:
    """``submit_body`` for a request already parsed (``data``: its protobuf bytes, if it came as protobuf)."""
    if signal == "logs" and data is not None:
        check_size(signal, message, policy)
        if plain(message, policy):
            return writer.submit_logs(RawBody(data, policy, count_items(signal, message)))
    with _nesting_checked(signal):
        mapped = map_request(signal, message, policy)
    written = writer.submit(mapped.batch)
    out: Future = Future()
    written.add_done_callback(lambda f: out.set_exception(f.exception()) if f.exception() else out.set_result(mapped))
    return out


__all__ = [
    "submit_body",
    "submit_message",
    "BatchWriter",
    "IngestPolicy",
    "Mapped",
    "body_to_batch",
    "export_response",
    "response_for",
]

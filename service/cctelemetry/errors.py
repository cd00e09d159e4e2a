"""Errors every layer may raise, each with the HTTP status the API answers with.

    TelemetryError                500  base class
    ├── BadRequest                400  a body or parameter we cannot use
    │   └── UnknownDimension      400  group_by / filter names outside the closed set
    ├── UnsupportedMediaType      415  OTLP content type we do not speak
    ├── PayloadTooLarge           413  body over max_body_bytes
    ├── NotFound                  404
    ├── StoreUnavailable          503  ClickHouse down, locked, or the write queue is full
    │   └── WriteQueueFull        503  the write queue is full (OTLP/gRPC: RESOURCE_EXHAUSTED)
    └── QueryTimeout              504
"""

from __future__ import annotations


class TelemetryError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(TelemetryError):
    status = 400
    code = "bad_request"


class UnknownDimension(BadRequest):
    code = "unknown_dimension"


class UnsupportedMediaType(TelemetryError):
    status = 415
    code = "unsupported_media_type"


class PayloadTooLarge(TelemetryError):
    status = 413
    code = "payload_too_large"


class NotFound(TelemetryError):
    status = 404
    code = "not_found"


class StoreUnavailable(TelemetryError):
    status = 503
    code = "store_unavailable"


class WriteQueueFull(StoreUnavailable):
    """The store is up but the writer holds as many rows as it may: the client should slow down."""

    code = "write_queue_full"


class QueryTimeout(TelemetryError):
    status = 504
    code = "query_timeout"

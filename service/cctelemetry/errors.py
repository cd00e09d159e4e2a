"""Errors every layer may raise, each with the HTTP status the API answers with and a stable ``code``.

    TelemetryError                500  internal_error  base class; a bug if it reaches a client
    ├── BadRequest                400  bad_request     a body or parameter we cannot use
    │   ├── UnknownDimension      400  unknown_dimension  group_by / filter names outside the closed set
    │   ├── QueryError            400  query_error     people's SQL that the engine refused
    │   └── QueryTimeout          400  query_timeout   people's SQL over the time limit
    ├── Unauthorized              401  unauthorized    no or a wrong API token
    ├── Forbidden                 403  forbidden       a read-only store or token asked to write
    ├── NotFound                  404  not_found
    ├── PayloadTooLarge           413  payload_too_large  body over max_body_bytes
    ├── UnsupportedMediaType      415  unsupported_media_type  a content type we do not speak
    ├── TooManyRequests           429  too_many_requests  slow down and retry later
    │   └── WriteQueueFull        429  write_queue_full  the write queue is full (OTLP/gRPC: RESOURCE_EXHAUSTED)
    ├── StoreError                500  store_error     the engine refused our own SQL (a bug)
    └── StoreUnavailable          503  store_unavailable  ClickHouse down, locked, or out of resources

The store translates the ClickHouse driver's errors into these by error code (store/errors.py); the API
answers every one of them, and anything else, in one shape (api/app.py).
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


class QueryError(BadRequest):
    code = "query_error"


class QueryTimeout(BadRequest):
    code = "query_timeout"


class Unauthorized(TelemetryError):
    status = 401
    code = "unauthorized"


class Forbidden(TelemetryError):
    status = 403
    code = "forbidden"


class NotFound(TelemetryError):
    status = 404
    code = "not_found"


class PayloadTooLarge(TelemetryError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(TelemetryError):
    status = 415
    code = "unsupported_media_type"


class TooManyRequests(TelemetryError):
    status = 429
    code = "too_many_requests"


class StoreError(TelemetryError):
    code = "store_error"


class StoreUnavailable(TelemetryError):
    status = 503
    code = "store_unavailable"


class WriteQueueFull(TooManyRequests):
    """The store is up but the writer holds as many rows as it may: the client should slow down. 429, not
    503: the receiver is throttling, which OTLP/gRPC says with RESOURCE_EXHAUSTED, and HTTP's code for
    RESOURCE_EXHAUSTED is 429 (google.rpc.Code); 503 (UNAVAILABLE) stays for a store that cannot take
    writes at all. OTLP/HTTP clients retry both, after Retry-After:
    https://opentelemetry.io/docs/specs/otlp/#otlphttp-throttling"""

    code = "write_queue_full"

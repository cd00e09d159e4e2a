"""The ClickHouse driver's errors -> the project's (cctelemetry/errors.py), by ClickHouse error code.

The codes are ClickHouse's own (src/Common/ErrorCodes.cpp in ClickHouse/ClickHouse); clickhouse-connect
carries them on its exceptions as ``.code`` for both backends (chdb and HTTP). Message text is only
read for the two conditions that have no code: a refused connection and chdb's folder lock.

Whose SQL failed decides the class: people's ad-hoc SQL (``user_query=True``) that the engine refuses is
their mistake (400); our own SQL refused is a bug (500), and a query of ours that ran out of time or
memory is the store being overloaded (503: retry).
"""

from __future__ import annotations

import re

from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError, ProgrammingError

from ..errors import (
    Forbidden,
    QueryError,
    QueryTimeout,
    StoreError,
    StoreUnavailable,
    TelemetryError,
)

TIMEOUT_EXCEEDED = 159
TOO_MANY_ROWS_OR_BYTES = 396
TOO_MANY_ROWS = 158

# The store cannot serve now; the same request may succeed later.
UNAVAILABLE = {
    81,  # UNKNOWN_DATABASE: not migrated yet
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    203,  # NO_FREE_CONNECTION
    209,  # SOCKET_TIMEOUT
    210,  # NETWORK_ERROR
    241,  # MEMORY_LIMIT_EXCEEDED
    242,  # TABLE_IS_READ_ONLY
    252,  # TOO_MANY_PARTS
    279,  # ALL_CONNECTION_TRIES_FAILED
    425,  # SYSTEM_ERROR
    516,  # AUTHENTICATION_FAILED: the service's credentials, not the client's
    999,  # KEEPER_EXCEPTION
}
# The user the service connects as may not do this (the stack's read-only reader).
DENIED = {
    164,  # READONLY
    291,  # DATABASE_ACCESS_DENIED
    497,  # ACCESS_DENIED
}
TIMEOUTS = {TIMEOUT_EXCEEDED, 394}  # 394: QUERY_WAS_CANCELLED


def error_code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


def connection_reason(exc: BaseException) -> str:
    """'Connection refused' rather than urllib3's retry report with the whole query URL in it."""
    text = str(exc)
    m = _ERRNO.search(text)
    if m:
        return m.group(1).strip()
    for marker in ("timed out", "Connection reset", "Connection aborted", "Name or service not known"):
        if marker in text:
            return marker
    return first_line(exc)[:200]


def translate(exc: BaseException, where: str, *, user_query: bool = False, connecting: bool = False) -> TelemetryError:
    """The project error for a driver exception raised while talking to the store at ``where``."""
    if isinstance(exc, TelemetryError):
        return exc
    code = error_code(exc)
    text = first_line(exc)
    if isinstance(exc, OperationalError) and code is None:
        state = "is not reachable" if connecting else "is unavailable"
        return StoreUnavailable(f"ClickHouse at {where} {state} ({connection_reason(exc)})")
    if isinstance(exc, ProgrammingError) and "Cannot lock file" in str(exc):
        return StoreUnavailable(
            f"the data folder {where} is in use by another process (is `cctelemetry serve` running? "
            "then the CLI reaches the data through its API)"
        )
    if code in TIMEOUTS:
        if user_query:
            return QueryTimeout(f"the query ran out of time ({text}); raise CCTELEMETRY_SQL_MAX_SECONDS or narrow it")
        return StoreUnavailable(f"ClickHouse at {where} did not answer in time: {text}")
    if code in UNAVAILABLE:
        return StoreUnavailable(f"ClickHouse at {where} is unavailable: {text}")
    if code in DENIED:
        if user_query:
            return QueryError(f"not allowed in read-only SQL (readonly mode): {text}")
        return Forbidden(f"ClickHouse at {where} refused: {text}")
    if not isinstance(exc, ClickHouseError):
        return StoreUnavailable(f"ClickHouse at {where} failed: {text}")
    if user_query:
        return QueryError(f"the query failed: {text}")
    return StoreError(f"the store refused a query: {text}")

"""The ClickHouse users of the stack (clickhouse/users.d/cctelemetry-users.xml), for the test server.

``writer`` runs DDL and inserts with the cctelemetry_writer profile's settings; ``reader`` has the
cctelemetry_readonly profile (readonly=2 and its limits). The shim knows passwords and profile
settings only: it has no grants and no settings constraints. The writer's password needs
percent-encoding in a URL, on purpose.
"""

from __future__ import annotations

WRITER, WRITER_PASSWORD = "writer", "wr1ter p@ss:/%?#é"
READER, READER_PASSWORD = "reader", "r3ader"

SHIM_USERS = {
    "default": "",
    WRITER: {
        "password": WRITER_PASSWORD,
        "settings": {
            "async_insert": "1",
            "wait_for_async_insert": "1",
            "async_insert_busy_timeout_max_ms": "1000",
            "max_execution_time": "600",
        },
    },
    READER: {
        "password": READER_PASSWORD,
        "settings": {
            "readonly": "2",
            "max_execution_time": "60",
            "timeout_overflow_mode": "throw",
            "max_memory_usage": "2000000000",
        },
    },
}


def writer_url(shim, database: str) -> str:
    return shim.url(WRITER, WRITER_PASSWORD, database)


def reader_url(shim, database: str) -> str:
    return shim.url(READER, READER_PASSWORD, database)

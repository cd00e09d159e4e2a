"""OTLP/protobuf log bodies flattened by ClickHouse instead of Python.

Mapping a body of 250 Claude Code events to rows in Python costs about 10 ms (a loop per attribute), and
serializing those rows for the insert as much again: together they capped the embedded service at about
2.5k events/s. Here the writer hands ClickHouse the bodies themselves: one ``INSERT ... FORMAT Protobuf`` of
every body of a flush into a staging table (proto/otlp_logs.proto, the part of the OTLP schema otel_logs
stores; https://clickhouse.com/docs/interfaces/formats/Protobuf), and one ``INSERT ... SELECT`` that flattens
them into otel_logs (sql/raw_logs_flatten.sql), which feeds the materialized views as any insert does.

The rows are the ones ``mapping.logs_to_rows`` makes. Where SQL would not be exact, or the ingest policy
would change something (sql/raw_logs_unusual.sql: content keys, emails to hash, maps or values over the
limits, a key twice, array/map/bytes values, doubles Go writes with an exponent, times past 2262; ``plain``
checks the limits and times before a body is acknowledged, raw_logs_unusual.sql the rest at the flush), the body
is mapped by Python (``outcome.map_request``) in the same flush. tests/test_raw_logs.py holds the two paths
equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from ..store import Store
from ..store.sqlfiles import ident, load, render, trusted
from .policy import DROP_KEYS, REDACT_KEYS, TOOL_PARAMETER_DROPS, IngestPolicy

STAGE = "_otlp_logs_stage"
_ONEOF = ("Enum8('none' = 0, 'string_value' = 1, 'bool_value' = 2, 'int_value' = 3, 'double_value' = 4, "
          "'array_value' = 5, 'kvlist_value' = 6, 'bytes_value' = 7)")  # fmt: skip
# input_format_protobuf_oneof_presence fills `value` with the case that was set (0: none).
ANY_VALUE = ("Tuple(string_value String, bool_value Bool, int_value Int64, double_value Float64, array_value String, "
             f"kvlist_value String, bytes_value String, value {_ONEOF})")  # fmt: skip
KEY_VALUES = f"Array(Tuple(key String, value {ANY_VALUE}))"
BODY_FIELD = 1000  # cct_body in proto/otlp_logs.proto
ROLE = "ingest"  # the store connection of the writer's flushes


@dataclass
class RawBody:
    """One protobuf ExportLogsServiceRequest that upb parsed (so it is well-formed), kept as its bytes only (the
    parsed message is several times bigger) until the flush; ``rows``: its log records."""

    data: bytes
    policy: IngestPolicy
    rows: int

    def message(self):
        from .decode import decode_request

        return decode_request("logs", self.data, "application/x-protobuf")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def stream(bodies: list[bytes]) -> bytes:
    """The bodies as ClickHouse's length-delimited Protobuf stream, each with ``cct_body`` = its 1-based
    position (a field appended to a message merges into it: https://protobuf.dev/programming-guides/encoding/)."""
    tag = _varint(BODY_FIELD << 3)
    out = []
    for number, data in enumerate(bodies, 1):
        message = data + tag + _varint(number)
        out.append(_varint(len(message)))
        out.append(message)
    return b"".join(out)


def _value(v: str) -> str:
    return render(load(__package__, "raw_logs_value"), V=trusted(v))


def _map(kvs: str) -> str:
    return render(
        load(__package__, "raw_logs_map"), KVS=trusted(kvs), VALUE_OF_KV=trusted(_value("tupleElement(kv, 'value')"))
    )


def _unusual_value(v: str) -> str:
    return render(load(__package__, "raw_logs_unusual_value"), V=trusted(v))


def _unusual_map(kvs: str) -> str:
    return render(load(__package__, "raw_logs_unusual_map"), KVS=trusted(kvs),
                  VALUE_OF_KV=trusted(_value("tupleElement(kv, 'value')")),
                  UNUSUAL_KV=trusted(_unusual_value("tupleElement(kv, 'value')")))  # fmt: skip


@cache
def statements() -> tuple[str, str, str]:
    """(the staging table's DDL, the query for bodies Python must map, the flattening insert)."""
    stage = ident(STAGE)
    ddl = render(load(__package__, "raw_logs_stage"), STAGE=stage, KEY_VALUES=trusted(KEY_VALUES),
                 ANY_VALUE=trusted(ANY_VALUE))  # fmt: skip
    body = "tupleElement(lr, 'body')"
    record = f"({_unusual_map(f'tupleElement(lr, {chr(39)}attributes{chr(39)})')} OR {_unusual_value(body)})"
    unusual = render(load(__package__, "raw_logs_unusual"), STAGE=stage,
                     UNUSUAL_RESOURCE=trusted(_unusual_map("tupleElement(tupleElement(rl, 'resource'), 'attributes')")),
                     UNUSUAL_SCOPE=trusted(_unusual_map("tupleElement(tupleElement(sl, 'scope'), 'attributes')")),
                     UNUSUAL_RECORD=trusted(record))  # fmt: skip
    flatten = render(load(__package__, "raw_logs_flatten"), STAGE=stage, BODY=trusted(_value(body)),
                     RESOURCE_ATTRIBUTES=trusted(_map("tupleElement(tupleElement(rl, 'resource'), 'attributes')")),
                     SCOPE_ATTRIBUTES=trusted(_map("tupleElement(tupleElement(sl, 'scope'), 'attributes')")),
                     LOG_ATTRIBUTES=trusted(_map("tupleElement(lr, 'attributes')")))  # fmt: skip
    return ddl, unusual, flatten


def schema_path() -> str:
    return str(resources.files(__package__).joinpath("proto", "otlp_logs.proto"))


def policy_parameters(policy: IngestPolicy) -> dict:
    """What raw_logs_unusual_map.sql needs of the policy (policy.py: what it removes, redacts, edits)."""
    drop = set() if policy.store_prompts else set(DROP_KEYS)
    if policy.hash_emails:
        drop.add("user.email")
    return {
        "drop_keys": sorted(drop),
        "redact_keys": [] if policy.store_prompts else sorted(REDACT_KEYS),
        "tool_parameters": int(not policy.store_prompts),
        "tool_parameter_drops": list(TOOL_PARAMETER_DROPS),
    }


class RawLogs:
    """Stages and flattens the bodies of one flush; used by the writer's thread only."""

    def __init__(self, store: Store):
        self.store = store
        self._ready = False

    def stage(self, bodies: list[bytes], policy: IngestPolicy) -> set[int]:
        """Load ``bodies`` into the staging table; the positions (0-based) of those Python must map."""
        ddl, unusual, _ = statements()
        if not self._ready:
            self.store.command(ddl, role=ROLE)
            self.store.command(f"TRUNCATE TABLE `{STAGE}`", role=ROLE)  # what a flush of an earlier writer left
            self._ready = True
        self.store.raw_insert(STAGE, stream(bodies), "Protobuf",
                              {"format_schema": schema_path() + ":ExportLogsServiceRequest",
                               "input_format_protobuf_oneof_presence": 1}, role=ROLE)  # fmt: skip
        rows = self.store.query(unusual, policy_parameters(policy), role=ROLE).result_rows
        return {int(row[0]) - 1 for row in rows}

    def flatten(self, python: set[int]) -> None:
        """Insert the staged bodies into otel_logs, but those at ``python`` (0-based)."""
        _, _, flatten = statements()
        self.store.command(flatten, {"python": sorted(i + 1 for i in python)}, role=ROLE)

    def forget(self) -> None:
        """The staging table's state is unknown (a failed flush): empty it before the next use."""
        self._ready = False

    def clear(self) -> None:
        """Empty the staging table (its bodies are stored), so it holds no memory between flushes."""
        if self._ready:
            self.store.command(f"TRUNCATE TABLE `{STAGE}`", role=ROLE)


_MAX_NS = 2**63 - 1  # DateTime64(9): later times are rejected by the policy (a partial success)


def plain(message, policy: IngestPolicy) -> bool:
    """Whether the policy can have nothing to tell the client about this logs request, so that it may be
    acknowledged before it is flattened: no time past what the store holds, no map over ``max_attributes``
    entries, nothing over ``max_value_length`` (no record, resource or scope is that many bytes, so no value
    in it is that many characters). What the policy still changes silently (content, emails) is found
    exactly by raw_logs_unusual.sql at the flush, where Python maps those bodies."""
    limit_n, limit_len = policy.max_attributes, policy.max_value_length
    for resource_logs in message.resource_logs:
        resource = resource_logs.resource
        if (limit_n and len(resource.attributes) > limit_n) or (limit_len and resource.ByteSize() > limit_len):
            return False
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            if (limit_n and len(scope.attributes) > limit_n) or (limit_len and scope.ByteSize() > limit_len):
                return False
            for record in scope_logs.log_records:
                if (record.time_unix_nano or record.observed_time_unix_nano) > _MAX_NS:
                    return False
                if (limit_n and len(record.attributes) > limit_n) or (limit_len and record.ByteSize() > limit_len):
                    return False
    return True

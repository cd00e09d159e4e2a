"""The migrations for a ClickHouse cluster (``CCTELEMETRY_CLUSTER=<name>``), rendered from the one set of files.

On one server every statement runs as written. On a cluster (a ``remote_servers`` entry, with ZooKeeper or
ClickHouse Keeper, and the ``{shard}``/``{replica}`` macros on every node) each statement is rewritten:

- A table of rows that grow with use (raw telemetry, the fact writer's inbox and tables, events, the rollup) is
  **sharded by session**: ``<name>_local`` on every node, ``Replicated*MergeTree`` (its replicas under
  ``/clickhouse/tables/{shard}/{database}/{table}``), and ``<name>`` a ``Distributed`` table over them with the
  session as the sharding key. Every copy of a request therefore lives on one shard, which is what
  ``ReplacingMergeTree`` and ``FINAL`` need to collapse them (https://clickhouse.com/docs/engines/table-engines/
  mergetree-family/replacingmergetree), and a session's rows are read from one shard.
- A small table (the migration ledger, price book, fact writer bookmarks, resource attribute maps, the importer's
  file state) is **replicated to every node**, not sharded: one ``Replicated*MergeTree`` whose replicas are all
  the nodes (``/clickhouse/tables/all/{database}/{table}``), read locally anywhere.
- A materialized view on a sharded table is created on every node over ``<source>_local`` and writes into
  ``<target>_local``: each node processes the rows its shard receives
  (https://clickhouse.com/docs/engines/table-engines/special/distributed).
- Every DDL statement gets ``ON CLUSTER``; ``INSERT ... SELECT`` (backfills) runs as written, through the
  ``Distributed`` tables, whose names are the tables' own: the service's queries do not change.

Tables not named in ``SHARD_KEYS`` are replicated to every node: always correct, not spread. A table that grows
should get its sharding key here. A statement of a shape this module does not know is an error, not a guess.
"""

from __future__ import annotations

import re

# Sharded tables and their sharding key (an integer expression over the table's columns): the session.
_SESSION_IN_LOGS = ("multiIf(LogAttributes['session.id'] != '', LogAttributes['session.id'], "
                    "LogAttributes['conversation.id'] != '', LogAttributes['conversation.id'], "
                    "ResourceAttributes['session.id'])")  # fmt: skip
_SESSION_IN_METRICS = "cityHash64(Attributes['session.id'])"
SHARD_KEYS: dict[str, str] = {
    "otel_logs": f"cityHash64({_SESSION_IN_LOGS})",
    "otel_traces": "cityHash64(if(SpanAttributes['session.id'] != '', SpanAttributes['session.id'], TraceId))",
    "otel_traces_trace_id_ts": "cityHash64(TraceId)",
    "otel_metrics_gauge": _SESSION_IN_METRICS,
    "otel_metrics_sum": _SESSION_IN_METRICS,
    "otel_metrics_summary": _SESSION_IN_METRICS,
    "otel_metrics_histogram": _SESSION_IN_METRICS,
    "otel_metrics_exponential_histogram": _SESSION_IN_METRICS,
    "api_requests": "cityHash64(session_id)",
    "agent_events": "cityHash64(session_id)",
    "api_request_inbox": "cityHash64(session_id)",
    "request_copies": "cityHash64(session_id)",
    "usage_hourly": "cityHash64(session_id)",
    "usage_daily": "cityHash64(session_id)",
}
SHARDED_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
EVERYWHERE_PATH = "/clickhouse/tables/all/{database}/{table}"
LOCAL = "_local"

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_CREATE_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS (\w+)\s*(\(.*)$", re.S)
_CREATE_AS = re.compile(r"^CREATE TABLE IF NOT EXISTS (\w+) AS (\w+)\s*$", re.S)
_CREATE_MV = re.compile(r"^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+)\s+(AS\s+SELECT\b.*)$", re.S)
_DROP = re.compile(r"^DROP (TABLE|VIEW) IF EXISTS (\w+)\s*$", re.S)
_ALTER = re.compile(r"^ALTER TABLE (\w+)\s+(.*)$", re.S)
_ENGINE = re.compile(r"\bENGINE\s*=\s*(\w*MergeTree)(?:\s*\(([^()]*)\))?")
_SOURCE = re.compile(r"\b(FROM|JOIN)\s+(\w+)\b")


def check_name(cluster: str) -> str:
    if not _NAME.match(cluster):
        raise ValueError(f"CCTELEMETRY_CLUSTER {cluster!r} is not a cluster name (letters, digits, _ . -)")
    return cluster


class ClusterDDL:
    """Renders statements for ``cluster`` in ``database``, one after another (a table's engine, once seen, is
    remembered for ``CREATE TABLE ... AS`` it)."""

    def __init__(self, cluster: str, database: str):
        self.cluster = check_name(cluster)
        self.database = database
        self.engines: dict[str, str] = {}  # table -> its ENGINE clause to the end of the statement, as written
        self.on = f"ON CLUSTER `{self.cluster}`"

    def render(self, statement: str) -> list[str]:
        body = _strip_comments(statement)
        renderers = ((_CREATE_AS, self._create_as), (_CREATE_TABLE, self._create_table),
                     (_CREATE_MV, self._create_view), (_DROP, self._drop), (_ALTER, self._alter))  # fmt: skip
        for pattern, method in renderers:
            m = pattern.match(body)
            if m:
                return method(*m.groups())
        if body.startswith("INSERT INTO "):
            return [statement]  # through the Distributed (or everywhere-replicated) tables, whose names are unchanged
        raise ValueError(f"no cluster rendering for this statement: {body.splitlines()[0][:120]!r}")

    # -- statements ---------------------------------------------------------------------------------

    def _create_table(self, name: str, rest: str) -> list[str]:
        m = _ENGINE.search(rest)
        if not m:
            raise ValueError(f"table {name}: no *MergeTree engine to replicate")
        self.engines[name] = rest[m.start() :]
        columns, engine = rest[: m.start()], self._replicated(name, rest[m.start() :])
        if name not in SHARD_KEYS:
            return [f"CREATE TABLE IF NOT EXISTS {name} {self.on}\n{columns}{engine}"]
        return [f"CREATE TABLE IF NOT EXISTS {name}{LOCAL} {self.on}\n{columns}{engine}", self._distributed(name)]

    def _create_as(self, name: str, source: str) -> list[str]:
        if source not in self.engines:
            raise ValueError(f"table {name} is made AS {source}, whose engine is not known here")
        self.engines[name] = self.engines[source]
        engine = self._replicated(name, self.engines[source])
        if name not in SHARD_KEYS:
            return [f"CREATE TABLE IF NOT EXISTS {name} {self.on} AS {source}\n{engine}"]
        return [f"CREATE TABLE IF NOT EXISTS {name}{LOCAL} {self.on} AS {self._local(source)}\n{engine}",
                self._distributed(name)]  # fmt: skip

    def _create_view(self, name: str, target: str, select: str) -> list[str]:
        sources = {m.group(2) for m in _SOURCE.finditer(select)}
        if not sources & SHARD_KEYS.keys():
            return [f"CREATE MATERIALIZED VIEW IF NOT EXISTS {name} {self.on} TO {target}\n{select}"]
        # On every node, over the rows its shard receives.
        select = _SOURCE.sub(lambda m: f"{m.group(1)} {self._local(m.group(2))}", select)
        return [f"CREATE MATERIALIZED VIEW IF NOT EXISTS {name} {self.on} TO {self._local(target)}\n{select}"]

    def _drop(self, kind: str, name: str) -> list[str]:
        dropped = [f"DROP {kind} IF EXISTS {name} {self.on} SYNC"]
        if kind == "TABLE" and name in SHARD_KEYS:
            dropped.append(f"DROP TABLE IF EXISTS {name}{LOCAL} {self.on} SYNC")
        return dropped

    def _alter(self, name: str, change: str) -> list[str]:
        if name not in SHARD_KEYS:
            return [f"ALTER TABLE {name} {self.on} {change}"]
        altered = [f"ALTER TABLE {name}{LOCAL} {self.on} {change}"]
        if re.match(r"^(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b", change.strip(), re.I):
            altered.append(f"ALTER TABLE {name} {self.on} {change}")  # a Distributed table's columns follow
        return altered

    # -- pieces -------------------------------------------------------------------------------------

    def _local(self, table: str) -> str:
        return f"{table}{LOCAL}" if table in SHARD_KEYS else table

    def _replicated(self, name: str, engine_clause: str) -> str:
        m = _ENGINE.search(engine_clause)
        assert m is not None, engine_clause  # the callers found this clause with the same pattern
        path = SHARDED_PATH if name in SHARD_KEYS else EVERYWHERE_PATH
        args = ", ".join(a for a in (f"'{path}'", "'{replica}'", (m.group(2) or "").strip()) if a)
        return f"{engine_clause[: m.start()]}ENGINE = Replicated{m.group(1)}({args}){engine_clause[m.end() :]}"

    def _distributed(self, name: str) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {name} {self.on} AS {name}{LOCAL}\n"
            f"ENGINE = Distributed('{self.cluster}', '{self.database}', '{name}{LOCAL}', {SHARD_KEYS[name]})"
        )


def _strip_comments(statement: str) -> str:
    """The statement without its leading ``--`` comment lines (the files start statements with them)."""
    lines = statement.strip().splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines).strip()

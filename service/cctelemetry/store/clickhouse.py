"""The store: the only module that talks to ClickHouse.

One clickhouse-connect ``Client`` per connection drives both backends: ``interface="chdb"`` for the
embedded engine (a data folder) and HTTP for a ClickHouse server. Values are always bound server-side
with ``{name:Type}`` placeholders; inserts go in as column batches. Driver errors leave this package
translated into the project's errors (store/errors.py).

Connections are kept per role, so that one kind of work never waits behind another: ``write`` (inserts
and the write path's commands), ``read`` (reports; a small pool), ``adhoc`` (people's SQL, which may be
slow) and ``control`` (health probes). A 17-second ad-hoc query therefore holds up neither an OTLP
write nor ``/healthz``. chdb allows several connections to the one engine of a process; each keeps its
own current database, and each is used by one thread at a time.

On a server the ``write`` role may connect as another user (``write_url``): in the stack the service
reads as the read-only ``reader`` and writes its own rows (imports, snapshots) as ``writer``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from queue import Empty, LifoQueue
from typing import Any
from urllib.parse import unquote, urlparse

import clickhouse_connect
from clickhouse_connect.driver import options as _driver_options

from ..errors import BadRequest, QueryError, StoreUnavailable, TelemetryError
from .errors import translate

log = logging.getLogger(__name__)

ROLES = ("write", "ingest", "read", "adhoc", "control")
# One OTLP body may carry events of many days (a backlog, a clock gone wrong): the raw tables are partitioned
# by day, and ClickHouse refuses, by default, an insert block over 100 partitions.
_INSERT_SETTINGS = {"max_partitions_per_insert_block": 0}
_READ_STATEMENTS = ("Select", "Show", "Describe", "Explain", "Exists")
_OPEN_LOCK = threading.Lock()
_SETTLED = threading.local()  # Store.settled(): this thread's reads skip before_read
# We insert lists of rows, never DataFrames: tell the driver there is no pandas, or its first insert imports it
# only to ask whether the rows are a DataFrame (about 0.3 s, and 40-50 MB of a service's resident memory).
_driver_options.pd = _driver_options.pd_time_test = None


@dataclass(frozen=True)
class Target:
    """Where the data is, parsed from ``CCTELEMETRY_CLICKHOUSE_URL``."""

    kind: str  # "chdb" or "http"
    path: str = ""
    host: str = ""
    port: int = 8123
    username: str = "default"
    password: str = ""
    secure: bool = False
    database: str = ""

    @classmethod
    def parse(cls, url: str) -> Target:
        u = urlparse(url)
        if u.scheme == "chdb":
            path = unquote((u.netloc or "") + u.path)
            if not path:
                raise BadRequest(f"chdb URL needs a path: {url!r} (e.g. chdb:///home/me/.local/share/cctelemetry)")
            return cls(kind="chdb", path=path)
        if u.scheme in ("http", "https"):
            secure = u.scheme == "https"
            database = u.path.strip("/")
            try:
                port = u.port or (8443 if secure else 8123)
            except ValueError as exc:
                raise BadRequest(f"bad port in ClickHouse URL {url!r}") from exc
            if "/" in database:
                raise BadRequest(f"ClickHouse URL path must be one database name, got {database!r}")
            return cls(
                kind="http",
                host=u.hostname or "localhost",
                port=port,
                username=unquote(u.username or "default"),
                password=unquote(u.password or ""),
                secure=secure,
                database=database,
            )
        raise BadRequest(f"unsupported ClickHouse URL {url!r}: use chdb:///path or http(s)://user:pass@host:8123/db")

    def describe(self) -> str:
        if self.kind == "chdb":
            return f"chdb://{self.path}"
        scheme = "https" if self.secure else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{self.username}@{host}:{self.port}/{self.database}"

    def where(self) -> str:
        """How errors name the store: the folder, or the server without credentials."""
        return self.path if self.kind == "chdb" else self.describe()


class _Connection:
    """One driver client, used by one thread at a time, remembering whether our database exists yet."""

    def __init__(self, target: Target):
        self.target = target
        self.client = _open(target)
        self.database_known = False

    def use(self, database: str) -> None:
        if not self.database_known:
            self.client.database = None
            rows = self.client.query(
                "SELECT count() FROM system.databases WHERE name = {db:String}", parameters={"db": database}
            ).result_rows
            self.database_known = bool(rows[0][0])
        self.client.database = database if self.database_known else None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing must not hide what the caller is doing
            self.client.close()


def _open(target: Target):
    try:
        with _OPEN_LOCK:
            if target.kind == "chdb":
                return clickhouse_connect.get_client(interface="chdb", path=target.path)
            return clickhouse_connect.get_client(
                host=target.host,
                port=target.port,
                username=target.username,
                password=target.password,
                secure=target.secure,
                connect_timeout=5,
                send_receive_timeout=300,
                autogenerate_session_id=False,
            )
    except Exception as exc:  # noqa: BLE001 - every driver failure becomes a project error
        error = translate(exc, target.where(), connecting=True)
        if "already initialized with path" in str(exc):
            error = StoreUnavailable(
                f"this process already opened another embedded data folder; cannot also open {target.path}"
            )
        raise error from exc


class _Pool:
    """Up to ``size`` connections of one role, opened on first use."""

    def __init__(self, target: Target, size: int):
        self.target = target
        self.size = size
        self._idle: LifoQueue[_Connection] = LifoQueue()
        self._opened: list[_Connection] = []
        self._lock = threading.Lock()

    @contextmanager
    def connection(self):
        conn = self._take()
        try:
            yield conn
        finally:
            self._idle.put(conn)

    def _take(self) -> _Connection:
        try:
            return self._idle.get_nowait()
        except Empty:
            pass
        with self._lock:
            if len(self._opened) < self.size:
                conn = _Connection(self.target)
                self._opened.append(conn)
                return conn
        return self._idle.get()

    def forget_database(self) -> None:
        for conn in self._opened:
            conn.database_known = False

    def close(self) -> None:
        for conn in self._opened:
            conn.close()
        self._opened.clear()


@dataclass
class ReadOnlyResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool


class Store:
    """Queries, commands and batch inserts against one ClickHouse database."""

    def __init__(self, url: str, database: str = "", *, write_url: str = "", read_connections: int = 2):
        self.target = Target.parse(url)
        self.write_target = Target.parse(write_url) if write_url else self.target
        self.database = database or self.target.database or "otel"
        self._pools = {
            "write": _Pool(self.write_target, 1),
            # the OTLP writer's flushes (ingest/writer.py), so that the fact writer and imports never queue behind
            # them on one connection
            "ingest": _Pool(self.write_target, 1),
            "read": _Pool(self.target, read_connections),
            "adhoc": _Pool(self.target, 1),
            "control": _Pool(self.target, 1),
        }
        # Called before every report's query (roles read and adhoc): the service's writer uses it to store what it
        # acknowledged and let the fact writer take it in first (ingest/writer.py ``settle``).
        self.before_read: Callable[[], None] | None = None
        # Open one connection now, so that a wrong URL, a locked folder or a server that is down is
        # said when the store is opened, not at the first report.
        with self._pools["read"].connection():
            pass

    @property
    def embedded(self) -> bool:
        return self.target.kind == "chdb"

    # -- calls ------------------------------------------------------------------------------------

    def _call(self, role: str, method: str, *args, user_query: bool = False, **kwargs):
        if self.before_read is not None and role in ("read", "adhoc") and not getattr(_SETTLED, "on", False):
            self.before_read()
        pool = self._pools[role]
        try:
            with pool.connection() as conn:
                conn.use(self.database)
                return getattr(conn.client, method)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every driver failure becomes a project error
            raise translate(exc, pool.target.where(), user_query=user_query) from exc

    def query(self, sql: str, params: dict[str, Any] | None = None, *, settings: dict | None = None,
              role: str = "read"):  # fmt: skip
        """Run a SELECT; returns the driver's result (``.column_names``, ``.result_rows``)."""
        return self._call(role, "query", sql, parameters=params or {}, settings=settings or {})

    def rows(self, sql: str, params: dict[str, Any] | None = None, **kw) -> list[dict[str, Any]]:
        result = self.query(sql, params, **kw)
        names = result.column_names
        return [dict(zip(names, row, strict=True)) for row in result.result_rows]

    def scalar(self, sql: str, params: dict[str, Any] | None = None, **kw):
        rows = self.query(sql, params, **kw).result_rows
        return rows[0][0] if rows else None

    def command(self, sql: str, params: dict[str, Any] | None = None, *, settings: dict | None = None,
                role: str = "write"):  # fmt: skip
        return self._call(role, "command", sql, parameters=params or None, settings=settings)

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str], *, role: str = "write") -> int:
        """Insert a batch of rows (lists in ``columns`` order). Returns the number written."""
        if not rows:
            return 0
        self._call(role, "insert", table, rows, column_names=list(columns), database=self.database,
                   settings=_INSERT_SETTINGS)  # fmt: skip
        return len(rows)

    def insert_columns(self, table: str, data: Iterable[Sequence[Any]], columns: Sequence[str]) -> int:
        data = [list(col) for col in data]
        if not data or not data[0]:
            return 0
        self._call("write", "insert", table, data, column_names=list(columns), database=self.database,
                   column_oriented=True, settings=_INSERT_SETTINGS)  # fmt: skip
        return len(data[0])

    def raw_insert(
        self, table: str, data: bytes, fmt: str, settings: dict | None = None, *, role: str = "write"
    ) -> None:
        """Insert ``data`` already in ClickHouse's input format ``fmt`` (e.g. Protobuf), parsed by the engine."""
        self._call(role, "raw_insert", table, None, data, settings={**_INSERT_SETTINGS, **(settings or {})}, fmt=fmt)

    def insert_plain(self, table: str, columns: dict[str, list]) -> int:
        """Insert columns of plain values (str, int, float, bool, None), sent as JSON.

        For small bookkeeping writes (the migration ledger, the transcript importer's state): the
        first ``insert`` of a process makes clickhouse-connect import pandas (about 0.3 s here), which
        a short CLI run should not pay for a few rows.
        """
        names = list(columns)
        count = len(columns[names[0]]) if names else 0
        if not count:
            return 0
        body = json.dumps([list(columns[name]) for name in names], separators=(",", ":")).encode()
        self._call("write", "raw_insert", table, names, body, fmt="JSONCompactColumns")
        return count

    @contextmanager
    def settled(self):
        """Run ``before_read`` once, then the block's reads without it: for a job of many queries on one thread
        (a transcript import) that needs what was acknowledged before it started, not before each query."""
        if self.before_read is not None and not getattr(_SETTLED, "on", False):
            self.before_read()
        before, _SETTLED.on = getattr(_SETTLED, "on", False), True
        try:
            yield self
        finally:
            _SETTLED.on = before

    def ping(self) -> bool:
        return not self.probe()

    def probe(self) -> str:
        """Why the store does not answer, in one line ('' when it does): what ``/healthz`` says."""
        try:
            self._call("control", "query", "SELECT 1")
            return ""
        except TelemetryError as exc:
            return exc.message
        except Exception as exc:  # noqa: BLE001 - a health probe reports, it does not raise
            return f"{type(exc).__name__}: {exc}"

    def create_database(self, cluster: str = "") -> bool:
        """Create our database if it is missing (on every node of ``cluster``, when named); True when it was
        created now."""
        existed = self.database_exists()
        if not existed:
            on = f" ON CLUSTER {quote_ident(cluster)}" if cluster else ""
            self._call("write", "command", f"CREATE DATABASE IF NOT EXISTS `{self.database}`{on}")
            for pool in self._pools.values():
                pool.forget_database()
        return not existed

    def database_exists(self) -> bool:
        return bool(self._call("control", "query", "SELECT count() FROM system.databases WHERE name = {db:String}",
                               parameters={"db": self.database}).result_rows[0][0])  # fmt: skip

    def query_readonly(self, sql: str, max_rows: int = 10_000, max_seconds: float = 30.0) -> ReadOnlyResult:
        """Run people's ad-hoc SQL so that it cannot write, within a time and a row limit.

        ClickHouse's own parser decides what the statement is (one statement; SELECT, SHOW, DESCRIBE,
        EXPLAIN or EXISTS), and it runs read-only on its own connection (``adhoc``). On a server the
        service's user is read-only as well (clickhouse/users.d). One row more than
        ``max_rows`` is asked for, so a cut result is known to be cut.
        """
        sql = sql.strip().rstrip(";").strip()
        if not sql:
            raise QueryError("the query is empty")
        # One statement only: the engine would run every statement of "SELECT 1; DROP TABLE t" given to
        # it as one text, so the parser first proves it is one (formatQuerySingleLine refuses more).
        self._call("adhoc", "query", "SELECT formatQuerySingleLine({q:String})", parameters={"q": sql},
                   user_query=True)  # fmt: skip
        # raw: a FORMAT clause appended by the client would attach to the explained query
        kind = self._call("adhoc", "raw_query", "EXPLAIN AST " + sql, fmt="TabSeparatedRaw", user_query=True).decode()
        if not kind.startswith(_READ_STATEMENTS):
            raise QueryError(f"only read-only statements are allowed (readonly mode), not {kind.split()[0]}")
        if any(line.startswith(" Literal ") for line in kind.splitlines()):
            # a literal right under the query is INTO OUTFILE '<path>': the embedded engine would write it
            raise QueryError("INTO OUTFILE is not allowed: the query's rows come back in the answer")
        settings = {"max_result_rows": max_rows + 1, "result_overflow_mode": "break",
                    "max_execution_time": max(1, int(max_seconds)), "timeout_overflow_mode": "throw"}  # fmt: skip
        if self.embedded:
            # readonly=1: no writes, no settings changes in the query, and no file() or url(). On a server
            # the reader user's profile is read-only already (and may not change `readonly`).
            settings["readonly"] = 1
        result = self._call("adhoc", "query", sql, parameters={}, settings=settings, user_query=True)
        rows = result.result_rows
        return ReadOnlyResult(list(result.column_names), rows[:max_rows], len(rows) > max_rows)

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


def quote_ident(name: str) -> str:
    """Back-quote an identifier (database or table name) for DDL, where binding is not possible."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"

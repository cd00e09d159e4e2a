"""The store: the only module that talks to ClickHouse.

One clickhouse-connect ``Client`` drives both backends: ``interface="chdb"`` for the embedded engine
(a data folder) and HTTP for a ClickHouse server. Values are always bound server-side with
``{name:Type}`` placeholders; inserts go in as column batches.

chdb opens one data folder per process and locks it against other processes, so embedded clients
are shared per process (``_ENGINES``) and every call is serialised by a lock.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Sequence
from urllib.parse import unquote, urlparse

import clickhouse_connect
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError, ProgrammingError

from ..errors import BadRequest, QueryTimeout, StoreUnavailable

log = logging.getLogger(__name__)

_ENGINES: dict[str, Any] = {}
_READ_STATEMENTS = ("Select", "Show", "Describe", "Explain", "Exists")
_ENGINES_LOCK = threading.Lock()


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
    def parse(cls, url: str) -> "Target":
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


def _open_chdb(path: str):
    with _ENGINES_LOCK:
        client = _ENGINES.get(path)
        if client is None:
            try:
                client = clickhouse_connect.get_client(interface="chdb", path=path)
            except ProgrammingError as exc:
                text = str(exc)
                if "Cannot lock file" in text:
                    raise StoreUnavailable(
                        f"the data folder {path} is in use by another process (is `cctelemetry serve` running? "
                        "then the CLI reaches the data through its API)"
                    ) from exc
                if "already initialized with path" in text:
                    raise StoreUnavailable(
                        f"this process already opened another embedded data folder; cannot also open {path}"
                    ) from exc
                raise StoreUnavailable(f"cannot open the embedded ClickHouse at {path}: {text}") from exc
            _ENGINES[path] = client
        return client


class Store:
    """Queries, commands and batch inserts against one ClickHouse database."""

    def __init__(self, url: str, database: str = ""):
        self.target = Target.parse(url)
        self.database = database or self.target.database or "otel"
        self._lock = threading.RLock()
        self._client = self._connect()

    def _connect(self):
        t = self.target
        if t.kind == "chdb":
            return _open_chdb(t.path)
        try:
            return clickhouse_connect.get_client(
                host=t.host,
                port=t.port,
                username=t.username,
                password=t.password,
                secure=t.secure,
                connect_timeout=5,
                send_receive_timeout=60,
                autogenerate_session_id=False,
            )
        except OperationalError as exc:
            raise StoreUnavailable(f"ClickHouse at {t.describe()} is not reachable: {exc}") from exc
        except DatabaseError as exc:
            raise StoreUnavailable(f"ClickHouse at {t.describe()} refused the connection: {exc}") from exc

    @property
    def embedded(self) -> bool:
        return self.target.kind == "chdb"

    # -- calls ------------------------------------------------------------------------------------

    def _call(self, fn, *args, **kwargs):
        # chdb keeps one current database per engine; set ours on every call, under the lock.
        with self._lock:
            try:
                self._client.database = self.database if self._database_exists() else None
                return fn(*args, **kwargs)
            except OperationalError as exc:
                raise StoreUnavailable(f"ClickHouse at {self.target.describe()} is unavailable: {exc}") from exc
            except DatabaseError as exc:
                if "TIMEOUT_EXCEEDED" in str(exc):
                    raise QueryTimeout(str(exc)) from exc
                raise

    def _database_exists(self) -> bool:
        if getattr(self, "_db_known", False):
            return True
        self._client.database = None
        rows = self._client.query(
            "SELECT count() FROM system.databases WHERE name = {db:String}", parameters={"db": self.database}
        ).result_rows
        self._db_known = bool(rows[0][0])
        return self._db_known

    def query(self, sql: str, params: dict[str, Any] | None = None, *, settings: dict | None = None):
        """Run a SELECT; returns clickhouse-connect's QueryResult (``.column_names``, ``.result_rows``)."""
        return self._call(self._client.query, sql, parameters=params or {}, settings=settings or {})

    def rows(self, sql: str, params: dict[str, Any] | None = None, **kw) -> list[dict[str, Any]]:
        result = self.query(sql, params, **kw)
        names = result.column_names
        return [dict(zip(names, row)) for row in result.result_rows]

    def scalar(self, sql: str, params: dict[str, Any] | None = None):
        rows = self.query(sql, params).result_rows
        return rows[0][0] if rows else None

    def command(self, sql: str, params: dict[str, Any] | None = None):
        return self._call(self._client.command, sql, parameters=params or None)

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> int:
        """Insert a batch of rows (lists in ``columns`` order). Returns the number written."""
        if not rows:
            return 0
        self._call(self._client.insert, table, rows, column_names=list(columns), database=self.database)
        return len(rows)

    def insert_columns(self, table: str, data: Iterable[Sequence[Any]], columns: Sequence[str]) -> int:
        data = [list(col) for col in data]
        if not data or not data[0]:
            return 0
        self._call(
            self._client.insert, table, data, column_names=list(columns), database=self.database, column_oriented=True
        )
        return len(data[0])

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
        self._call(self._client.raw_insert, table, names, body, fmt="JSONCompactColumns")
        return count

    def ping(self) -> bool:
        try:
            with self._lock:
                self._client.query("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - a health probe reports, it does not raise
            return False

    def create_database(self) -> None:
        with self._lock:
            self._client.database = None
            try:
                self._client.command(f"CREATE DATABASE IF NOT EXISTS {quote_ident(self.database)}")
            except OperationalError as exc:
                raise StoreUnavailable(f"ClickHouse at {self.target.describe()} is unavailable: {exc}") from exc
            self._db_known = False

    def query_readonly(self, sql: str, max_rows: int = 10_000):
        """Run people's ad-hoc SQL so that it cannot write.

        ClickHouse's own parser decides what the statement is (one statement; SELECT, SHOW, DESCRIBE,
        EXPLAIN or EXISTS), and SELECTs also run with ``readonly=1``. On a server the service's user
        is read-only as well (clickhouse/users.d).
        """
        sql = sql.strip().rstrip(";").strip()
        try:
            self.scalar("SELECT formatQuerySingleLine({q:String})", {"q": sql})
            # raw: a FORMAT clause appended by the client would attach to the explained query
            kind = self._call(self._client.raw_query, "EXPLAIN AST " + sql).decode()
        except DatabaseError as exc:
            raise BadRequest(f"cannot parse the query: {str(exc).splitlines()[0]}") from exc
        if not kind.startswith(_READ_STATEMENTS):
            raise BadRequest(f"only read-only statements are allowed (readonly mode), not {kind.split()[0]}")
        settings = {"max_result_rows": max_rows, "result_overflow_mode": "break"}
        if kind.startswith("Select") and self.embedded:
            settings["readonly"] = 1
        return self.query(sql, settings=settings)

    def close(self) -> None:
        if not self.embedded:
            self._client.close()


def quote_ident(name: str) -> str:
    """Back-quote an identifier (database or table name) for DDL, where binding is not possible."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"

"""The store's server backend: clickhouse-connect's HTTP client against a ClickHouse HTTP endpoint.

The endpoint is tests/support/chshim.py: ClickHouse's HTTP transport in front of the real engine
(chdb, the same ClickHouse release the embedded backend runs) in a subprocess of its own. So
these tests run the store's HTTP path for real (auth, settings, bound parameters, Native results,
compressed Native inserts, server errors) without a ClickHouse server on the machine, and compare
what the server backend returns with what the embedded backend returns for the same data.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from cctelemetry.errors import BadRequest, Forbidden, QueryError, QueryTimeout, StoreError, StoreUnavailable
from cctelemetry.ingest import facts
from cctelemetry.store import Store, Target
from cctelemetry.store.migrate import load_migrations, migrate
from otel_rows import (
    BASE_TS,
    OTEL_LOGS_COLUMNS,
    RESOURCE,
    SESSION_A,
    api_request,
    assert_views_filled,
    naive_utc,
    sample_rows,
)
from stack_users import READER, WRITER, WRITER_PASSWORD, reader_url, writer_url

# -- Target.parse ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://writer:secret@ch.example:8123/otel",
            dict(host="ch.example", port=8123, username="writer", password="secret", secure=False, database="otel"),
        ),
        (
            "https://writer:p%40ss%3Aw%2Frd%25%20x@ch.example/otel",
            dict(
                host="ch.example", port=8443, username="writer", password="p@ss:w/rd% x", secure=True, database="otel"
            ),
        ),
        (
            "https://reader:%C3%A9t%C3%A9@10.0.0.5:9443/otel",
            dict(host="10.0.0.5", port=9443, username="reader", password="été", secure=True, database="otel"),
        ),
        (
            "http://ch.example",
            dict(host="ch.example", port=8123, username="default", password="", secure=False, database=""),
        ),
        (
            "http://reader@127.0.0.1:18123/",
            dict(host="127.0.0.1", port=18123, username="reader", password="", secure=False, database=""),
        ),
        (
            "http://u:p@[::1]:8123/otel",
            dict(host="::1", port=8123, username="u", password="p", secure=False, database="otel"),
        ),
    ],
)
def test_target_parses_server_urls(url, expected):
    t = Target.parse(url)
    assert t.kind == "http"
    assert {k: getattr(t, k) for k in expected} == expected


def test_target_describe_leaves_the_password_out():
    t = Target.parse("https://writer:s3cr%40t@ch.example:8443/otel")
    assert t.describe() == "https://writer@ch.example:8443/otel"
    assert "s3cr" not in t.describe()


def test_target_rejects_other_schemes():
    with pytest.raises(BadRequest, match="unsupported ClickHouse URL"):
        Target.parse("clickhouse://writer:pw@ch.example:9000/otel")


def test_shim_url_round_trips_a_password_that_needs_encoding(chshim):
    url = writer_url(chshim, "otel")
    assert "%40" in url and "%3A" in url and "%2F" in url  # @ : / encoded
    t = Target.parse(url)
    assert (t.username, t.password, t.port, t.database) == (WRITER, WRITER_PASSWORD, chshim.port, "otel")


# -- the endpoint speaks ClickHouse's HTTP interface ----------------------------------------------


def _http(shim, path, data=None, headers=None, method=None):
    req = urllib.request.Request(shim.base_url + path, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_endpoint_answers_like_a_clickhouse_server(chshim):
    status, headers, body = _http(chshim, "/ping")
    assert (status, body) == (200, b"Ok.\n")

    auth = _basic(WRITER, WRITER_PASSWORD)
    status, headers, body = _http(
        chshim, "/?query_id=q-1&param_who=it%27s%5Ctab", b"SELECT {who:String} AS who, 1 + 1 AS two", auth
    )
    assert status == 200
    # The parameter is in ClickHouse's escaped form (\t is a tab); the output TabSeparated, escaped.
    assert body == b"it\\'s\\tab\t2\n"
    assert headers["X-ClickHouse-Format"] == "TabSeparated"
    assert headers["X-ClickHouse-Query-Id"] == "q-1"
    assert headers["X-ClickHouse-Timezone"] == "UTC"
    assert headers["X-ClickHouse-Server-Display-Name"] == "chshim"
    assert json.loads(headers["X-ClickHouse-Summary"])["read_rows"] == "1"

    # A DDL statement has no result, so no X-ClickHouse-Format.
    status, headers, body = _http(chshim, "/", b"CREATE TEMPORARY TABLE t (a UInt8)", auth)
    assert (status, body) == (200, b"")
    assert "X-ClickHouse-Format" not in headers

    # The same credentials in the X-ClickHouse-User/Key headers, and a FORMAT clause.
    status, headers, body = _http(
        chshim,
        "/",
        b"SELECT 1 AS one FORMAT JSONEachRow",
        {"X-ClickHouse-User": WRITER, "X-ClickHouse-Key": WRITER_PASSWORD},
    )
    assert (status, body, headers["X-ClickHouse-Format"]) == (200, b'{"one":1}\n', "JSONEachRow")

    # Responses are compressed as the server chooses (zstd first) when the client accepts it.
    status, headers, body = _http(chshim, "/", b"SELECT 1", {**auth, "Accept-Encoding": "lz4,zstd,gzip,deflate"})
    assert (status, headers["Content-Encoding"]) == (200, "zstd")

    # Errors: ClickHouse's body, code header and HTTP status for the code.
    status, headers, body = _http(chshim, "/", b"SELECT * FROM no_such_table", auth)
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (404, "60")
    assert body.startswith(b"Code: 60. DB::Exception: ") and b"(UNKNOWN_TABLE) (version " in body

    status, headers, body = _http(chshim, "/", b"SELECT 1", _basic(WRITER, "wrong"))
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (403, "516")
    assert (
        body.startswith(b"Code: 516. DB::Exception: writer: Authentication failed")
        and b"(AUTHENTICATION_FAILED)" in body
    )

    status, headers, body = _http(chshim, "/", b"SELECT 1; SELECT 2", auth)
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (400, "62")

    status, headers, body = _http(chshim, "/?not_a_setting=1", b"SELECT 1", auth)
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (404, "115")

    # GET is read-only, as on a server.
    status, headers, body = _http(
        chshim, "/?query=CREATE%20TABLE%20get_made%20(a%20UInt8)%20ENGINE%20%3D%20Memory", headers=auth
    )
    assert headers["X-ClickHouse-Exception-Code"] == "164" and b"(READONLY)" in body

    status, _, _ = _http(chshim, "/no/such/handler")
    assert status == 404


def test_endpoint_keeps_http_session_state(chshim):
    """clickhouse-connect's default client sends a session_id: SET and temporary tables persist in
    the session, URL settings apply to one request, another session sees none of it."""
    import clickhouse_connect

    client = clickhouse_connect.get_client(
        host=chshim.host, port=chshim.port, username=WRITER, password=WRITER_PASSWORD
    )
    other = clickhouse_connect.get_client(host=chshim.host, port=chshim.port, username=WRITER, password=WRITER_PASSWORD)
    try:
        assert client.get_client_setting("session_id")
        client.command("SET max_result_rows = 3")
        client.command("CREATE TEMPORARY TABLE scratch (a UInt8)")
        client.insert("scratch", [[1], [2]], column_names=["a"])
        assert client.query("SELECT sum(a), getSetting('max_result_rows') FROM scratch").result_rows == [(3, 3)]
        assert client.query("SELECT getSetting('max_result_rows')", settings={"max_result_rows": 9}).result_rows == [
            (9,)
        ]
        assert client.query("SELECT getSetting('max_result_rows')").result_rows == [(3,)]
        with pytest.raises(DatabaseError, match="UNKNOWN_TABLE"):
            other.query("SELECT * FROM scratch")
    finally:
        client.close()
        other.close()


def test_client_handshake_reaches_the_real_engine(chshim, store, database):
    server = Store(writer_url(chshim, database), database)
    try:
        with server._pools["read"].connection() as connection:
            client = connection.client
            # The engine behind the endpoint is the embedded one's: same version, and the server's
            # timezone and settings come from it (clickhouse-connect reads them at connection).
            assert client.server_version == store.scalar("SELECT version()")
            assert str(client.server_tz) == "UTC"
            assert {"max_result_rows", "readonly", "async_insert"} <= set(client.server_settings)
        assert server.ping()
        assert not server.embedded
    finally:
        server.close()


# -- migrations, inserts, the materialized views -------------------------------------------------


def _schema(s: Store):
    tables = s.query(
        "SELECT name, engine, partition_key, sorting_key, primary_key FROM system.tables "
        "WHERE database = {db:String} ORDER BY name",
        {"db": s.database},
    ).result_rows
    columns = s.query(
        "SELECT table, name, type, default_kind, default_expression, compression_codec FROM system.columns "
        "WHERE database = {db:String} ORDER BY table, position",
        {"db": s.database},
    ).result_rows
    return tables, columns


def test_migrate_is_idempotent_and_builds_the_embedded_schema(chshim, store, database):
    from cctelemetry.config import Settings
    from cctelemetry.reports.views import create_views

    server_db = f"{database}_srv"
    s = Store(writer_url(chshim, server_db), server_db)
    try:
        applied = migrate(s)
        create_views(s, Settings(database=server_db))
        assert [m.version for m in applied] == [m.version for m in load_migrations()]
        assert migrate(s) == []  # a second run changes nothing
        assert migrate(s) == []
        ledger = s.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version").result_rows
        assert ledger == [(m.version, m.name, m.checksum) for m in load_migrations()]
        # The same tables, engines, keys and columns as the embedded backend's migrated database.
        assert _schema(s) == _schema(store)
    finally:
        s.command(f"DROP DATABASE IF EXISTS `{server_db}`")
        s.close()


def test_exporter_rows_fill_the_inbox_and_agent_events(server_store):
    rows = sample_rows()
    assert server_store.insert("otel_logs", rows, OTEL_LOGS_COLUMNS) == len(rows)

    assert server_store.scalar("SELECT count() FROM otel_logs") == len(rows)
    r = server_store.rows(
        "SELECT Timestamp, ServiceName, ResourceAttributes, LogAttributes['input_tokens'] AS input, "
        "`__otel_materialized_k8s.pod.name` AS pod FROM otel_logs WHERE LogAttributes['request_id'] = {rid:String}",
        {"rid": "req_a2"},
    )
    assert r == [
        {
            "Timestamp": naive_utc(BASE_TS + timedelta(seconds=5, microseconds=123_456)),  # DateTime64(9) round trip
            "ServiceName": "claude-code",
            "ResourceAttributes": RESOURCE,
            "input": "10",
            "pod": "",
        }
    ]

    assert_views_filled(server_store)


def test_column_oriented_insert(server_store):
    rows = [api_request(BASE_TS, SESSION_A, f"req_col_{i}", seq=i, input_tokens=100 + i) for i in range(3)]
    columns = [list(col) for col in zip(*rows, strict=True)]
    assert server_store.insert_columns("otel_logs", columns, OTEL_LOGS_COLUMNS) == 3
    got = server_store.query(
        "SELECT request_id, input_tokens FROM api_request_inbox WHERE request_id LIKE {p:String} ORDER BY request_id",
        {"p": "req_col_%"},
    ).result_rows
    assert got == [("req_col_0", 100), ("req_col_1", 101), ("req_col_2", 102)]


# -- bound parameters ------------------------------------------------------------------------------


def test_bound_parameters_go_to_the_server_intact(chshim, database):
    s = Store(writer_url(chshim, database), database)  # no database needed for these
    try:
        tricky = "it's a \\ back\tslash\nline — ünïcødé {not:String} ' OR 1=1 --"
        assert s.scalar("SELECT {name:String}", {"name": tricky}) == tricky
        since = datetime(2026, 11, 22, 10, 36, 2, 504_000)
        assert s.scalar("SELECT {since:DateTime64(3)}", {"since": since}) == since
        assert (
            s.scalar("SELECT {since:DateTime64(3)} < toDateTime64('2026-11-22 10:36:02.505', 3)", {"since": since}) == 1
        )
        assert s.scalar("SELECT {ids:Array(String)}", {"ids": ["a'b", "c"]}) == ["a'b", "c"]
        assert s.scalar("SELECT {t:Tuple(String, UInt8)}", {"t": ("k'", 1)}) == ("k'", 1)
        assert s.scalar("SELECT {n:Nullable(Float64)}", {"n": None}) is None
        # Large values travel as multipart/form-data fields rather than in the URL.
        big = "x" * 20_000 + "'"
        assert s.query(
            "SELECT length({big:String}), {big:String} = {same:String}", {"big": big, "same": big}
        ).result_rows == [(20_001, 1)]
        with pytest.raises(StoreError, match="UNKNOWN_QUERY_PARAMETER"):
            s.query("SELECT {missing:String}")
    finally:
        s.close()


# -- the same answers as the embedded backend ---------------------------------------------------


COMPARED_QUERIES = [
    ("SELECT * EXCEPT (inserted_at, version) FROM request_copies ORDER BY agent_product, request_key, source", {}),
    (
        "SELECT model, count() AS n, sum(input_tokens) AS input, sum(input_tokens + output_tokens) AS total, "
        "sum(reported_cost_usd) AS cost "
        "FROM request_copies WHERE timestamp >= {since:DateTime64(3)} AND session_id = {session:String} "
        "GROUP BY model ORDER BY model",
        {"since": BASE_TS.replace(tzinfo=None), "session": SESSION_A},
    ),
    (
        "SELECT toStartOfHour(timestamp) AS hour, countIf(model LIKE {pattern:String}) AS sonnet, "
        "max(duration_ms) AS slowest FROM request_copies WHERE timestamp < {until:DateTime64(3)} "
        "GROUP BY hour ORDER BY hour",
        {"pattern": "%sonnet%", "until": (BASE_TS + timedelta(hours=3)).replace(tzinfo=None)},
    ),
    (
        "SELECT Timestamp, Body, LogAttributes, ResourceAttributes, ScopeName, EventName, "
        "`__otel_materialized_deployment.environment.name` AS env FROM otel_logs ORDER BY Timestamp, Body",
        {},
    ),
    ("SELECT * FROM agent_events ORDER BY session_id, timestamp", {}),
    ("SELECT * FROM request_copies WHERE session_id = {session:String}", {"session": "no-such-session"}),
    ("SELECT * FROM usage_hourly ORDER BY ALL", {}),
    (
        "SELECT {s:String} AS s, {ids:Array(String)} AS ids, {t:Tuple(String, UInt8)} AS t, {d:DateTime64(3)} AS d, "
        "{n:Nullable(Float64)} AS n, {u:UUID} AS u",
        {
            "s": "a'b\\c",
            "ids": ["x", "y'z"],
            "t": ("k", 7),
            "d": datetime(2026, 1, 2, 3, 4, 5, 678_000),
            "n": 2.5,
            "u": uuid.UUID("34bdd348-06b4-4503-b17a-7d59c405c215"),
        },
    ),
]


def test_same_results_as_the_embedded_backend(store, server_store):
    rows = sample_rows()
    store.insert("otel_logs", rows, OTEL_LOGS_COLUMNS)
    server_store.insert("otel_logs", rows, OTEL_LOGS_COLUMNS)
    facts.apply(store)  # the fact writer, over both backends
    facts.apply(server_store)
    for sql, params in COMPARED_QUERIES:
        embedded = store.query(sql, params)
        server = server_store.query(sql, params)
        assert server.column_names == embedded.column_names, sql
        assert [t.name for t in server.column_types] == [t.name for t in embedded.column_types], sql
        assert server.result_rows == embedded.result_rows, sql
    assert store.rows(COMPARED_QUERIES[1][0], COMPARED_QUERIES[1][1])  # the comparison saw data


# -- errors ----------------------------------------------------------------------------------------


def test_server_errors_reach_the_caller_by_code(server_store):
    # Our own SQL refused: a bug (500); out of time: the store is overloaded (503, retry); people's SQL
    # refused: their mistake (400). Decided by the ClickHouse error code, for both backends.
    with pytest.raises(StoreError, match="UNKNOWN_TABLE") as e:
        server_store.query("SELECT * FROM no_such_table")
    assert e.value.status == 500
    with pytest.raises(StoreUnavailable, match="TIMEOUT_EXCEEDED"):
        server_store.query(
            "SELECT count() FROM system.numbers", settings={"max_execution_time": 0.2, "timeout_overflow_mode": "throw"}
        )
    with pytest.raises(QueryError, match="UNKNOWN_TABLE") as e:
        server_store.query_readonly("SELECT * FROM no_such_table")
    assert e.value.status == 400
    with pytest.raises(QueryTimeout, match="TIMEOUT_EXCEEDED"):
        server_store.query_readonly("SELECT count() FROM system.numbers", max_seconds=1)


def test_reader_user_can_query_but_not_write(chshim, server_store, database):
    server_store.insert("otel_logs", sample_rows(), OTEL_LOGS_COLUMNS)
    reader = Store(reader_url(chshim, database), database)
    try:
        # Per-query settings pass (the profile is readonly=2, not 1): the ones query_readonly sends.
        limits = {"max_result_rows": 7, "result_overflow_mode": "break"}
        assert reader.query(
            "SELECT getSetting('max_result_rows'), getSetting('readonly')", settings=limits
        ).result_rows == [(7, 2)]
        assert reader.scalar("SELECT count() FROM api_request_inbox") == 4
        # ... writes and DDL do not.
        with pytest.raises(Forbidden, match="READONLY"):
            reader.insert("otel_logs", sample_rows()[:1], OTEL_LOGS_COLUMNS)
        with pytest.raises(Forbidden, match="READONLY"):
            reader.command("DROP TABLE otel_logs")
        assert server_store.scalar("SELECT count() FROM otel_logs") == len(sample_rows())
    finally:
        reader.close()


def test_query_readonly_on_a_server(chshim, server_store, database):
    reader = Store(reader_url(chshim, database), database)
    try:
        assert reader.query_readonly("SELECT getSetting('max_result_rows')", max_rows=7).rows == [
            (8,)
        ]  # one more, to tell a cut
    finally:
        reader.close()


@pytest.mark.parametrize(
    ("user", "password"),
    [(WRITER, "not-the-password"), ("nobody", WRITER_PASSWORD), (READER, "")],
)
def test_bad_credentials_are_store_unavailable(chshim, database, user, password):
    url = chshim.url(user, password, database)
    with pytest.raises(StoreUnavailable) as e:
        Store(url, database)
    message = str(e.value)
    assert message.startswith(f"ClickHouse at http://{user}@127.0.0.1:{chshim.port}/{database} is unavailable")
    assert "516" in message and "AUTHENTICATION_FAILED" in message
    if password:
        assert password not in message
    assert e.value.status == 503


def test_stopped_server_is_store_unavailable_and_recovers(own_chshim, database):
    url = writer_url(own_chshim, database)
    s = Store(url, database)
    migrate(s)
    rows = sample_rows()
    s.insert("otel_logs", rows, OTEL_LOGS_COLUMNS)

    own_chshim.stop()
    with pytest.raises(
        StoreUnavailable, match=f"ClickHouse at http://writer@127.0.0.1:{own_chshim.port}/{database} is unavailable"
    ):
        s.query("SELECT count() FROM otel_logs")
    with pytest.raises(StoreUnavailable, match="is unavailable"):
        s.insert("otel_logs", rows, OTEL_LOGS_COLUMNS)
    with pytest.raises(StoreUnavailable, match="is unavailable"):
        s.command("OPTIMIZE TABLE otel_logs")
    assert s.ping() is False
    with pytest.raises(StoreUnavailable, match="is not reachable"):
        Store(url, database)

    own_chshim.start()  # the same port, the same data
    assert s.ping()
    assert s.scalar("SELECT count() FROM otel_logs") == len(rows)
    assert s.scalar("SELECT count() FROM api_request_inbox") == 4
    s.close()


def test_stopped_server_before_the_database_is_known(own_chshim, database):
    query_first = Store(writer_url(own_chshim, database), database)  # the database does not exist yet
    migrate_first = Store(writer_url(own_chshim, database), database)
    own_chshim.stop()
    with pytest.raises(StoreUnavailable):
        query_first.query("SELECT 1")
    with pytest.raises(StoreUnavailable):
        migrate(migrate_first)


def test_a_kept_report_is_not_served_while_the_server_is_stopped(own_chshim, database):
    # The report cache checks the tables' fingerprint on every use: with the server gone that check
    # fails as any query does (StoreUnavailable -> 503), rather than answering from what it kept.
    from cctelemetry.reports import cache as result_cache
    from cctelemetry.reports.query import RequestFilter
    from cctelemetry.reports.usage import usage

    s = Store(writer_url(own_chshim, database), database)
    migrate(s)
    s.insert("otel_logs", sample_rows(), OTEL_LOGS_COLUMNS)
    cache = result_cache.enable(s)
    first = usage(s, ["model"], RequestFilter.build())
    assert usage(s, ["model"], RequestFilter.build()) == first and cache.hits == 1
    own_chshim.stop()
    with pytest.raises(StoreUnavailable, match="is unavailable") as e:
        usage(s, ["model"], RequestFilter.build())
    assert e.value.status == 503
    own_chshim.start()
    assert usage(s, ["model"], RequestFilter.build()) == first and cache.hits == 2
    s.close()

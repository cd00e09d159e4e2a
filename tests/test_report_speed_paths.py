"""The code paths that make grouped reports fast keep their results: model resolution in one pass over
(model id x match row) pairs, the bulk clean-up of report rows, SQL that clickhouse-connect need not re-lex, and
the rollup each window reads."""

import json
from datetime import UTC, datetime

from cctelemetry.pricing import load_book, priced_usage_sql, pricing_params, sync_prices
from cctelemetry.reports.query import DIMENSIONS, RequestFilter
from cctelemetry.reports.source import plan, priced_per_request, priced_sums, usage_rows
from cctelemetry.reports.usage import clean, clean_rows
from request_copies import insert_copies

_COLUMNS = ["timestamp", "agent_product", "session_id", "request_key", "model", "input_tokens", "source",
            "source_priority"]  # fmt: skip


def _book(tmp_path, models):
    path = tmp_path / "prices.json"
    rates = {"input": 1, "output": 2, "cache_read": 0, "cache_write_5m": 0, "cache_write_1h": 0, "source": "test"}
    path.write_text(json.dumps({"models": [{**m, "prices": [rates]} for m in models]}))
    return load_book(path)


def test_model_ids_resolve_in_sql_as_in_python(store, tmp_path):
    # two patterns can match one id (the first in the book wins), and an alias beats any pattern
    book = _book(tmp_path, [
        {"id": "acme-wide", "patterns": ["acme"]},
        {"id": "acme-narrow", "patterns": ["acme-s"]},
        {"id": "acme-exact", "aliases": ["acme-special"]},
    ])  # fmt: skip
    models = ["acme-s1", "acme-special", "acme-x", "Acme-S2-20260101", "zzz", "", "claude-haiku-4-5-20251001"]
    rows = [
        [datetime(2026, 11, 22, 10), "claude_code", "s1", f"k{i}", m, 1000, "otel", 2] for i, m in enumerate(models)
    ]
    insert_copies(store, rows, _COLUMNS)
    sync_prices(store, book)
    flt = RequestFilter.build()
    head, params = priced_per_request(flt)
    found = {
        r["model"]: r["priced_model"]
        for r in store.rows(
            head + "SELECT model, priced_model FROM priced", {**params, **flt.params(), **pricing_params()}
        )
    }
    assert found == {m: book.match(m) for m in models}
    assert found["acme-s1"] == "acme-wide" and found["acme-special"] == "acme-exact" and found["zzz"] == ""


def test_clean_rows_is_clean_of_every_row_without_the_dropped_column():
    rows = [
        {"day": "", "_is_total": 1, "requests": 3, "input_tokens": 7, "cost_usd": 0.5, "unknown_models": ["x"]},
        {"day": "2026-11-22", "_is_total": 0, "requests": 3, "input_tokens": None, "cost_usd": None,
         "unknown_models": []},
    ]  # fmt: skip
    expected = [clean({k: v for k, v in r.items() if k != "_is_total"}) for r in rows]
    assert clean_rows([dict(r) for r in rows], drop="_is_total") == expected
    assert [list(r) for r in clean_rows([dict(r) for r in rows], drop="_is_total")] == [list(r) for r in expected]
    assert clean_rows([]) == []


def test_report_sql_has_no_semicolon():
    # clickhouse-connect re-lexes, in Python, every query that contains one (~2 ms for the report SQL)
    flt = RequestFilter.build(since="2026-11-01T10:30", until="2026-11-02T10:30")
    assert ";" not in usage_rows(flt, plan(flt))[0] and ";" not in priced_usage_sql()


def _tables(flt, keys):
    sql = priced_sums(flt, keys)[0]
    return [t for t in ("usage_daily", "usage_hourly", "request_copies") if t in sql]


def test_reports_over_whole_days_read_the_daily_rollup():
    session, day, hour = DIMENSIONS["session"], DIMENSIONS["day"], DIMENSIONS["hour"]
    whole = RequestFilter.build(tz="UTC")
    assert _tables(whole, [session]) == ["usage_daily"]
    assert _tables(whole, [day]) == ["usage_daily"]  # a UTC day is a day of the daily rollup
    assert _tables(whole, [hour]) == ["usage_hourly"]
    assert _tables(RequestFilter.build(tz="Europe/Paris"), [day]) == ["usage_hourly"]  # a local day is not
    assert _tables(RequestFilter.build(tz="Europe/Paris"), [session]) == ["usage_daily"]
    assert _tables(RequestFilter.build(tz="UTC", filters={"hour": "2026-11-01T10:00:00"}), [session]) == [
        "usage_hourly"]  # fmt: skip
    # a long window: its whole days, the hours around them, the requests at its edges
    long = RequestFilter.build(since="2026-09-01T10:30", until="2026-11-02T10:30", tz="UTC")
    assert _tables(long, [session]) == ["usage_daily", "usage_hourly", "request_copies"]
    days = plan(long, days=True).days
    assert days == (datetime(2026, 9, 2, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    # a week: hours only (one more part to analyse would cost more than the days save), also when it runs on
    assert _tables(RequestFilter.build(since="7d", tz="UTC"), [session]) == ["usage_hourly", "request_copies"]
    assert _tables(RequestFilter.build(since="2026-11-01T10:30", until="2026-11-08T10:30"), [session]) == [
        "usage_hourly", "request_copies"]  # fmt: skip
    # whole days exactly: the daily rollup alone
    assert _tables(RequestFilter.build(since="2026-11-01", until="2026-11-03", tz="UTC"), [session]) == [
        "usage_daily"]  # fmt: skip


def test_an_edge_without_requests_is_not_read(store):
    """report_plan leaves out the ranges at a window's edges that hold no request; the numbers stay the requests'."""
    from cctelemetry.reports.scope import Pricing
    from cctelemetry.reports.source import report_plan
    from cctelemetry.reports.usage import usage

    sonnet = "claude-sonnet-4-5"
    rows = [[datetime(2026, 11, 1, 10, 45), "claude_code", "s1", "k1", sonnet, 1000, "otel", 2],
            [datetime(2026, 11, 2, 12, 0), "claude_code", "s1", "k2", sonnet, 2000, "otel", 2]]  # fmt: skip
    insert_copies(store, rows, _COLUMNS)
    flt = RequestFilter.build(since="2026-11-01T10:30", until="2026-11-03T10:30", tz="UTC")
    first = (datetime(2026, 11, 1, 10, 30, tzinfo=UTC), datetime(2026, 11, 1, 11, tzinfo=UTC))
    last = (datetime(2026, 11, 3, 10, tzinfo=UTC), datetime(2026, 11, 3, 10, 30, tzinfo=UTC))
    assert plan(flt).raw == (first, last)
    assert report_plan(store, flt, ["session_id"]).raw == plan(flt).raw[:1]  # the second edge is empty
    later = RequestFilter.build(since="2026-11-01T10:50", until="2026-11-03T10:30", tz="UTC")
    assert report_plan(store, later, ["session_id"]).raw == ()  # k1 is before this window: nothing at either edge
    for window in (flt, later):
        fast, slow = usage(store, ["session"], window, Pricing()), usage(store, ["session"], window, Pricing(),
                                                                          use_rollup=False)  # fmt: skip
        assert fast.to_dict() == slow.to_dict()
    assert usage(store, [], flt, Pricing()).totals["input_tokens"] == 3000
    assert usage(store, [], later, Pricing()).totals["input_tokens"] == 2000

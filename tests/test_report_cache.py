"""The service's report cache: a repeat is answered from it, and any change to the data it read is seen."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from cctelemetry.pricing import load_book, sync_prices
from cctelemetry.reports import cache as result_cache
from cctelemetry.reports.query import RequestFilter
from cctelemetry.reports.usage import Pricing, usage
from request_copies import insert_copies

_COLUMNS = ["timestamp", "agent_product", "session_id", "request_key", "model", "input_tokens", "source",
            "source_priority"]  # fmt: skip


def _add(store, key: str, tokens: int, session: str = "s1") -> None:
    insert_copies(store, [[datetime(2026, 11, 22, 10), "claude_code", session, key, "acme-1", tokens, "otel", 2]],
                  _COLUMNS)  # fmt: skip


def _book(tmp_path, input_rate: float):
    path = tmp_path / f"prices-{input_rate}.json"
    rates = {"input": input_rate, "output": 0, "cache_read": 0, "cache_write_5m": 0, "cache_write_1h": 0,
             "source": "test"}  # fmt: skip
    path.write_text(json.dumps({"models": [{"id": "acme-1", "prices": [rates]}]}))
    return load_book(path)


@pytest.fixture
def cached(store, tmp_path):
    sync_prices(store, _book(tmp_path, 1.0))
    cache = result_cache.ResultCache()
    result_cache._CACHES[store] = cache
    yield cache
    result_cache._CACHES.pop(store, None)


def _by_session(store):
    return usage(store, ["session"], RequestFilter.build(), Pricing(mode="calculate"))


def test_a_repeat_is_answered_from_the_cache(store, cached):
    _add(store, "k1", 1_000_000)
    first = _by_session(store)
    again = _by_session(store)
    assert (cached.misses, cached.hits) == (1, 1)
    assert again == first and first["totals"]["cost_usd"] == pytest.approx(1.0)
    again["rows"][0]["requests"] = 99  # a caller reshaping its copy does not touch the kept result
    assert _by_session(store)["rows"][0]["requests"] == 1


def test_new_rows_are_seen(store, cached):
    _add(store, "k1", 1_000_000)
    assert _by_session(store)["totals"]["requests"] == 1
    _add(store, "k2", 2_000_000, session="s2")
    after = _by_session(store)
    assert after["totals"]["requests"] == 2 and len(after["rows"]) == 2 and cached.hits == 0


def test_a_merge_of_parts_is_a_change_too(store, cached):
    _add(store, "k1", 1_000_000)
    _add(store, "k1", 3_000_000)  # a fuller copy of the same request: FINAL keeps it
    assert _by_session(store)["totals"]["input_tokens"] == 3_000_000
    store.command("OPTIMIZE TABLE request_copies FINAL")
    store.command("OPTIMIZE TABLE usage_hourly FINAL")
    assert _by_session(store)["totals"]["input_tokens"] == 3_000_000 and cached.hits == 0


def test_a_new_price_book_is_seen(store, cached, tmp_path):
    _add(store, "k1", 1_000_000)
    assert _by_session(store)["totals"]["cost_usd"] == pytest.approx(1.0)
    sync_prices(store, _book(tmp_path, 3.0))  # the price tables are swapped (EXCHANGE TABLES)
    assert _by_session(store)["totals"]["cost_usd"] == pytest.approx(3.0) and cached.hits == 0


def test_other_parameters_are_other_results(store, cached):
    _add(store, "k1", 1_000_000)
    utc = usage(store, ["day"], RequestFilter.build(tz="UTC"), Pricing(mode="calculate"))
    tokyo = usage(store, ["day"], RequestFilter.build(tz="Asia/Tokyo"), Pricing(mode="calculate"))
    assert utc["rows"][0]["day"] == "2026-11-22" and tokyo["rows"][0]["day"] == "2026-11-22"
    later = usage(store, ["day"], RequestFilter.build(since="2026-11-23"), Pricing(mode="calculate"))
    assert later["rows"] == [] and cached.hits == 0


def test_only_the_serving_service_enables_it(store, settings, monkeypatch):
    from cctelemetry.api.state import ServiceState
    from cctelemetry.cli.source import local_reports

    url = f"chdb://{store.target.path}"
    for flag in (True, False):
        state = ServiceState.open(settings.model_copy(update={"report_cache": flag, "clickhouse_url": url}))
        try:
            assert (result_cache.for_store(state.store) is not None) == flag
        finally:
            state.close()
            result_cache._CACHES.pop(state.store, None)
    # the CLI's local mode (a one-shot process) never keeps results
    monkeypatch.setenv("CCTELEMETRY_DATABASE", store.database)
    reports = local_reports(settings.model_copy(update={"clickhouse_url": url}))
    assert result_cache.for_store(reports.store) is None


def test_the_cache_is_bounded_in_rows(store):
    store.command("SELECT 1")  # the store is only asked for fingerprints here
    cache = result_cache.ResultCache(max_entries=10, max_rows=40)
    tables = ("request_copies",)
    for i in range(5):
        cache.get(store, tables, ("k", i), lambda: [{"n": 1}] * 10)
    assert cache._rows <= 40 and len(cache._entries) == 4  # the oldest went
    big = cache.get(store, tables, ("big",), lambda: [{"n": 1}] * 11)
    assert len(big) == 11 and ("big",) not in {k for _, k in cache._entries}  # too big to keep
    cache.get(store, tables, ("k", 4), lambda: [])
    assert cache.hits == 1

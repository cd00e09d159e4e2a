"""A fact step that stops between its writes (the store goes away after request_copies took the new rows and
before the rollup did) is healed by the running service's next step, not only at the next start: the reports
equal the requests again as soon as the store is back.

The store is the real engine; the fault is the store refusing one statement, as a server that went down
between two statements does.
"""

from __future__ import annotations

import pytest

from cctelemetry.errors import StoreUnavailable
from cctelemetry.ingest import body_to_batch, facts
from cctelemetry.ingest.mapping import TABLE_COLUMNS
from cctelemetry.reports.catalog import Reports
from otlp_load import PROTOBUF, Load


def insert_body(store, load: Load, i: int) -> None:
    batch = body_to_batch("logs", load.body(i), PROTOBUF["Content-Type"], None, 1 << 24)
    for table, rows in batch.items():
        store.insert(table, rows, TABLE_COLUMNS[table])


def live_requests(store) -> int:
    return int(store.scalar("SELECT count() FROM request_copies FINAL WHERE superseded = 0"))


@pytest.mark.parametrize("fail_at", ["INSERT INTO usage_hourly", "INSERT INTO request_resources"])
def test_a_step_cut_between_its_writes_is_healed_by_the_next(store, settings, monkeypatch, fail_at):
    load = Load(run="cut", per_body=10, host="box-1")
    reports = Reports(store, settings)
    insert_body(store, load, 0)
    facts.apply(store)
    assert reports.usage(since="2000-01-01")["totals"]["requests"] == 10

    insert_body(store, Load(run="cut", per_body=10, host="box-2"), 1)  # a resource not seen before
    command = store.command

    def store_goes_away(sql, *args, **kwargs):
        if fail_at in sql:
            raise StoreUnavailable("the ClickHouse server went away")
        return command(sql, *args, **kwargs)

    monkeypatch.setattr(store, "command", store_goes_away)
    with pytest.raises(StoreUnavailable):
        facts.apply(store)
    monkeypatch.setattr(store, "command", command)
    assert live_requests(store) == 20  # request_copies took the step's rows ...

    facts.apply(store)  # ... and the next step (nothing new in the inbox) makes the rollup whole again
    by_host = reports.usage(group_by="host", since="2000-01-01")["rows"]
    assert sorted((r["host"], r["requests"]) for r in by_host) == [("box-1", 10), ("box-2", 10)]

    insert_body(store, load, 2)
    facts.apply(store)
    totals = reports.usage(since="2000-01-01")["totals"]
    assert {k: totals[k] for k in load.totals(3)} == load.totals(3)

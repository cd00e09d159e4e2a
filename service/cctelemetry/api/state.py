"""What the running service holds: settings, the store, the batch writer, the report door and the price
watcher, opened once at start."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..bootstrap import open_store, prepare
from ..config import Settings
from ..ingest import BatchWriter, IngestPolicy
from ..pricing import PriceWatcher
from ..reports import cache as result_cache
from ..reports.catalog import Reports
from ..store import Store

log = logging.getLogger(__name__)


@dataclass
class ServiceState:
    settings: Settings
    store: Store
    writer: BatchWriter
    reports: Reports = field(init=False)
    policy: IngestPolicy = field(init=False)  # limits, prompt content and emails at ingest (every transport)
    watchers: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reports = Reports(self.store, self.settings)
        self.policy = IngestPolicy.from_settings(self.settings)

    @classmethod
    def open(cls, settings: Settings) -> ServiceState:
        store = open_store(settings, create=True)
        if settings.migrate_on_start:
            prepared = prepare(store, settings)
            if prepared.applied:
                log.info("migrations applied", extra={"versions": [m.version for m in prepared.applied]})
        writer = BatchWriter(store, max_rows=settings.write_queue_rows, flush_ms=settings.write_flush_ms)
        if settings.report_cache:
            result_cache.enable(store)
        state = cls(settings=settings, store=store, writer=writer)
        state.watchers.append(PriceWatcher(store, settings.prices_file).start())
        return state

    def close(self) -> None:
        for watcher in self.watchers:
            watcher.stop()
        self.writer.close()
        self.store.close()

"""What the running service holds: settings, the store and the batch writer, opened once at start."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..config import Settings
from ..ingest import BatchWriter
from ..store import Store
from ..bootstrap import prepare
from ..reports import cache as result_cache

log = logging.getLogger(__name__)


@dataclass
class ServiceState:
    settings: Settings
    store: Store
    writer: BatchWriter

    @classmethod
    def open(cls, settings: Settings, serving: bool = True) -> "ServiceState":
        store = Store(settings.resolved_clickhouse_url(), settings.database)
        if settings.migrate_on_start:
            applied = prepare(store, settings, repair=serving)
            if applied:
                log.info("migrations applied", extra={"versions": [m.version for m in applied]})
        writer = BatchWriter(store, max_rows=settings.write_queue_rows, flush_ms=settings.write_flush_ms)
        if serving and settings.report_cache:
            result_cache.enable(store)
        return cls(settings=settings, store=store, writer=writer)

    def close(self) -> None:
        self.writer.close()
        self.store.close()

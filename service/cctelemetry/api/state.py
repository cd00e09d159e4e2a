"""What the running service holds: settings, the store, the batch writer, the report door, its Prometheus metrics,
and the watchers (prices, budgets), opened once at start."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..bootstrap import open_store, prepare
from ..config import Settings
from ..ingest import BatchWriter, IngestPolicy
from ..ingest.facts import FactRunner
from ..pricing import PriceWatcher
from ..reports import cache as result_cache
from ..reports.budgets import BudgetEvaluator, Budgets, WebhookSender
from ..reports.budgets import ledger as budget_ledger
from ..reports.catalog import Reports
from ..store import Store
from .memory import IdleTrimmer
from .service_metrics import ServiceMetrics, StoreCollector

log = logging.getLogger(__name__)


@dataclass
class ServiceState:
    settings: Settings
    store: Store
    writer: BatchWriter
    reports: Reports = field(init=False)
    policy: IngestPolicy = field(init=False)  # limits, prompt content and emails at ingest (every transport)
    watchers: list = field(default_factory=list)
    # Called by the writer after every flush (ingest/writer.py ``Flushed``), on its thread: signal, never wait.
    on_data: list = field(init=False)
    metrics: ServiceMetrics = field(init=False)
    budget_evaluator: BudgetEvaluator | None = None

    def __post_init__(self) -> None:
        self.reports = Reports(self.store, self.settings)
        self.on_data = self.writer.listeners
        self.metrics = ServiceMetrics(self.writer)
        self.metrics.registry.register(StoreCollector(self.reports, self.metrics))
        self.on_data.append(self.metrics.on_flush)
        self.policy = IngestPolicy.from_settings(self.settings)

    @classmethod
    def open(cls, settings: Settings) -> ServiceState:
        store = open_store(settings, create=True)
        if settings.migrate_on_start:
            prepared = prepare(store, settings)
            if prepared.applied:
                log.info("migrations applied", extra={"versions": [m.version for m in prepared.applied]})
        writer = BatchWriter(store, max_rows=settings.write_queue_rows, flush_ms=settings.write_flush_ms,
                             policy=IngestPolicy.from_settings(settings))  # fmt: skip
        if settings.report_cache:
            result_cache.enable(store)
        state = cls(settings=settings, store=store, writer=writer)
        state.watchers.append(PriceWatcher(store, settings.prices_file).start())
        # On a server the collector fills the inbox without us: take it in every second. Embedded, the writer
        # takes its own rows in; this only catches what a failed step left.
        lookback = 0.0 if store.embedded else settings.facts_lookback_seconds
        state.watchers.append(FactRunner(store, settings.facts_interval_seconds, lookback).start())
        state.start_budgets()
        if store.embedded and settings.idle_trim_seconds:
            trimmer = IdleTrimmer(store, settings.idle_trim_seconds)
            state.on_data.append(trimmer.on_flush)
            state.watchers.append(trimmer.start())
        return state

    def start_budgets(self, clock=None) -> BudgetEvaluator:
        """The budget evaluator (a watcher), woken by every flush; its webhook sender beside it."""
        sender = WebhookSender(
            lambda alert: budget_ledger.record(self.store, alert),
            timeout_s=self.settings.webhook_timeout_seconds,
            attempts=self.settings.webhook_attempts,
            on_attempt=lambda status: self.metrics.webhook_deliveries.labels(status).inc(),
        )
        self.budget_evaluator = BudgetEvaluator(Budgets(self.reports), sender,
                                                interval_s=self.settings.budget_check_seconds, metrics=self.metrics,
                                                clock=clock).start()  # fmt: skip
        self.on_data.append(self.budget_evaluator.data_arrived)
        self.watchers.append(self.budget_evaluator)
        return self.budget_evaluator

    def close(self) -> None:
        for watcher in self.watchers:
            watcher.stop()
        self.writer.close()
        self.store.close()

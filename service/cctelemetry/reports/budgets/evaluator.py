"""Budgets checked as data arrives: a thread of the service, woken by the writer after each flush (debounced, so
a burst of exports is one check, and at most one check a second) and at least every
``CCTELEMETRY_BUDGET_CHECK_SECONDS`` (a new period, an import, the projection moving with the clock). Each
threshold crossed fires once per period: the store's alert rows say which have fired, across restarts. An alert
is written, logged, counted and queued for its webhook; the check never waits for a delivery.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ...errors import TelemetryError
from . import ledger
from .catalog import Budgets
from .ledger import Alert
from .status import BudgetStatus
from .webhooks import WebhookSender, alert_text

log = logging.getLogger(__name__)

DEBOUNCE_S = 0.5  # flushes this close together are one check
MIN_GAP_S = 1.0  # and checks are at least this far apart, however fast data arrives
PENDING_WINDOW_DAYS = 7  # deliveries left pending by a stopped service are retried if this recent


class BudgetEvaluator:
    def __init__(self, budgets: Budgets, sender: WebhookSender, *, interval_s: float = 60.0, metrics=None,
                 clock: Callable[[], datetime] | None = None):  # fmt: skip
        self.budgets = budgets
        self.sender = sender
        self.interval_s = interval_s
        self.metrics = metrics
        self.clock = clock or (lambda: datetime.now(UTC))
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cctelemetry-budgets", daemon=True)
        self._checking = threading.Lock()  # one check at a time: a crossing must not be seen twice
        self.checks = 0

    def start(self) -> BudgetEvaluator:
        self.sender.start()
        self._resume_deliveries()
        self._thread.start()
        return self

    def data_arrived(self, flushed) -> None:
        """The writer's listener: a flush that wrote something wakes the check. Nothing else happens here."""
        if not getattr(flushed, "error", ""):
            self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(10)
        self.sender.stop()

    def _run(self) -> None:
        last = float("-inf")
        while not self._stopping.is_set():
            self._wake.wait(self.interval_s)
            if self._stopping.wait(max(DEBOUNCE_S, last + MIN_GAP_S - time.monotonic())):
                return
            self._wake.clear()
            last = time.monotonic()
            try:
                self.check()
            except TelemetryError as exc:
                log.warning("budget check failed", extra={"error": exc.message})
                if self.metrics is not None:
                    self.metrics.store_error("budgets", exc)
            except Exception:  # noqa: BLE001 - a bug here must not end the thread
                log.exception("budget check failed")

    def check(self) -> list[Alert]:
        """Evaluate every budget now; fire what crossed and has not fired in this period. Returns the new alerts."""
        with self._checking:
            now = self.clock()
            new: list[Alert] = []
            for status in self.budgets.statuses(now):
                self._gauges(status)
                if status.window is not None:
                    new += self._fire(status, now)
            self.checks += 1
            return new

    def _fire(self, status: BudgetStatus, now: datetime) -> list[Alert]:
        budget, window = status.budget, status.window
        assert window is not None  # check() fires only for budgets that have a period now
        due = [("threshold", t) for t in status.crossed]
        if status.projected_overrun:
            due.append(("projected", 100.0))
        if not due:
            return []
        already = ledger.fired(self.budgets.store, budget.name, window.start)
        alerts = []
        for kind, threshold in due:
            if (kind, threshold) in already:
                continue
            alert = Alert(budget=budget.name, kind=kind, threshold=threshold, period=budget.period,
                          period_start=window.start, period_end=window.end, unit=budget.unit,
                          amount=budget.amount, spent=status.spent, projection=status.projection,
                          filters=dict(budget.filters), fired_at=now, webhook=budget.webhook or "",
                          delivery="pending" if budget.webhook else "none")  # fmt: skip
            ledger.record(self.budgets.store, alert)
            log.warning("budget alert", extra={"budget": budget.name, "kind": kind, "threshold": threshold,
                                               "spent": status.spent, "amount": budget.amount, "unit": budget.unit,
                                               "period_start": window.start.isoformat(),
                                               "text": alert_text(alert)})  # fmt: skip
            if self.metrics is not None:
                self.metrics.budget_alerts.labels(budget.name, kind).inc()
            if budget.webhook:
                self.sender.send(alert)
            alerts.append(alert)
        return alerts

    def _gauges(self, status: BudgetStatus) -> None:
        if self.metrics is None:
            return
        labels = (status.budget.name, status.budget.unit, status.budget.period)
        self.metrics.budget_spent.labels(*labels).set(status.spent)
        self.metrics.budget_amount.labels(*labels).set(status.budget.amount)
        if status.projection is not None:
            self.metrics.budget_projected.labels(*labels).set(status.projection)

    def _resume_deliveries(self) -> None:
        try:
            since = self.clock() - timedelta(days=PENDING_WINDOW_DAYS)
            for alert in ledger.history(self.budgets.store, since, delivery="pending"):
                self.sender.send(alert)
        except TelemetryError as exc:
            log.warning("pending webhook deliveries not resumed", extra={"error": exc.message})

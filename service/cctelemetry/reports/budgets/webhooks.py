"""Alert deliveries: each alert is POSTed as JSON to its budget's webhook, on a thread of its own, retried with
exponential backoff (1 s, 2 s, 4 s, ... up to ``CCTELEMETRY_WEBHOOK_ATTEMPTS`` tries, each within
``CCTELEMETRY_WEBHOOK_TIMEOUT_SECONDS``). Nothing waits for it: the evaluator queues and goes on, and ingest never
sees it. Every attempt's outcome is written to the alert's row (``delivery``, ``attempts``, ``last_error``), so a
delivery the service did not finish before it stopped is tried again when it starts.

The body has a ``text`` field, so a Slack (or Mattermost, Discord /slack) incoming-webhook URL shows it as a
message (https://api.slack.com/messaging/webhooks); the other fields are the alert itself.
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import replace

from ... import __version__
from .ledger import Alert

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 300.0


def alert_text(alert: Alert) -> str:
    amount = money(alert.amount) if alert.unit == "usd" else f"{int(alert.amount):,} tokens"
    spent = money(alert.spent) if alert.unit == "usd" else f"{int(alert.spent):,} tokens"
    period = "5-hour block" if alert.period == "block" else alert.period
    scope = ", ".join(f"{k}={v}" for k, v in sorted(alert.filters.items()))
    since = alert.period_start.strftime("%Y-%m-%d %H:%M UTC")
    if alert.kind == "projected":
        projected = money(alert.projection or 0) if alert.unit == "usd" else f"{int(alert.projection or 0):,} tokens"
        head = f"projected to reach {projected} of its {amount} per {period}"
    else:
        head = f"reached {alert.threshold:g}% of {amount} per {period}"
    return (f"cctelemetry budget \"{alert.budget}\" {head}: {spent} spent since {since}"
            + (f" ({scope})" if scope else ""))  # fmt: skip


def money(value: float) -> str:
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}".rstrip("0").rstrip(".")


def payload(alert: Alert) -> dict:
    return {"text": alert_text(alert), **{k: v for k, v in alert.to_dict().items()
                                          if k not in ("delivery", "attempts", "last_error", "webhook")}}  # fmt: skip


class WebhookSender:
    """One thread delivering queued alerts in due order; ``record`` writes each attempt's outcome."""

    def __init__(self, record: Callable[[Alert], None], timeout_s: float = 5.0, attempts: int = 6,
                 first_backoff_s: float = 1.0, on_attempt: Callable[[str], None] | None = None):  # fmt: skip
        self.record = record
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.first_backoff_s = first_backoff_s
        self.on_attempt = on_attempt or (lambda status: None)
        self._queue: list[tuple[float, int, Alert]] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="cctelemetry-webhooks", daemon=True)

    def start(self) -> WebhookSender:
        self._thread.start()
        return self

    def send(self, alert: Alert, delay_s: float = 0.0) -> None:
        with self._cond:
            self._seq += 1
            heapq.heappush(self._queue, (time.monotonic() + delay_s, self._seq, alert))
            self._cond.notify()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                    self._cond.wait(None if not self._queue else max(self._queue[0][0] - time.monotonic(), 0))
                if self._stopping:
                    return  # what is left stays 'pending' in the store and is sent after the next start
                _, _, alert = heapq.heappop(self._queue)
            self._attempt(alert)

    def _attempt(self, alert: Alert) -> None:
        attempt = alert.attempts + 1
        error = deliver(alert, self.timeout_s)
        if not error:
            done = replace(alert, delivery="delivered", attempts=attempt, last_error="")
            log.info("budget alert delivered", extra={"budget": alert.budget, "threshold": alert.threshold,
                                                      "kind": alert.kind, "attempts": attempt})  # fmt: skip
            self.on_attempt("delivered")
        elif attempt >= self.attempts:
            done = replace(alert, delivery="failed", attempts=attempt, last_error=error)
            log.error("budget alert not delivered", extra={"budget": alert.budget, "threshold": alert.threshold,
                                                           "attempts": attempt, "error": error})  # fmt: skip
            self.on_attempt("failed")
        else:
            done = replace(alert, delivery="pending", attempts=attempt, last_error=error)
            delay = min(self.first_backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S)
            log.warning(
                "budget alert delivery failed, will retry",
                extra={"budget": alert.budget, "error": error, "attempt": attempt, "retry_in_s": delay},
            )
            self.on_attempt("retry")
            self.send(done, delay)
        try:
            self.record(done)
        except Exception as exc:  # noqa: BLE001 - the store being down must not stop deliveries
            log.warning("could not record a webhook delivery", extra={"error": str(exc)})


def deliver(alert: Alert, timeout_s: float) -> str:
    """POST the alert; '' on a 2xx answer, else what went wrong."""
    body = json.dumps(payload(alert)).encode()
    request = urllib.request.Request(alert.webhook, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": f"cctelemetry/{__version__}"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - the budget's own URL
            response.read(65536)
            return ""
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return str(reason)[:300] or type(exc).__name__

"""What budgets keep in the store (migration 0013): the API's budget set (one JSON revision per PUT) and the
alert history, one row per budget, period, kind and threshold, re-written with each webhook delivery attempt."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from ...store import Store
from ...store.sqlfiles import load
from .definitions import Budget, parse_budgets

ALERT_COLUMNS = (
    "budget",
    "kind",
    "threshold",
    "period",
    "period_start",
    "period_end",
    "unit",
    "amount",
    "spent",
    "projection",
    "filters",
    "fired_at",
    "webhook",
    "delivery",
    "attempts",
    "last_error",
    "updated_at",
)
_last_revision = 0


def api_budgets(store: Store) -> list[Budget]:
    body = store.scalar(load(__package__, "api_budgets"))
    return parse_budgets(json.loads(body), where="stored budgets") if body else []


def save_api_budgets(store: Store, budgets: list[Budget]) -> None:
    global _last_revision
    revision = max(time.time_ns() // 1000, _last_revision + 1)  # increasing, also within one microsecond
    _last_revision = revision
    body = json.dumps({"budgets": [b.public() for b in budgets]}, separators=(",", ":"))
    store.insert_plain("budget_definitions", {"revision": [revision], "budgets": [body]})


@dataclass
class Alert:
    budget: str
    kind: str  # "threshold" | "projected"
    threshold: float
    period: str
    period_start: datetime
    period_end: datetime
    unit: str  # "usd" | "tokens"
    amount: float
    spent: float
    projection: float | None
    filters: dict
    fired_at: datetime
    webhook: str = ""
    delivery: str = "none"  # none (no webhook) | pending | delivered | failed
    attempts: int = 0
    last_error: str = ""

    def to_dict(self) -> dict:
        body = asdict(self)
        for key in ("period_start", "period_end", "fired_at"):
            body[key] = _iso(body[key])
        body["threshold"] = _number(self.threshold)
        return body


def fired(store: Store, budget: str, period_start: datetime) -> set[tuple[str, float]]:
    rows = store.rows(load(__package__, "period_alerts"), {"budget": budget, "period_start": _naive(period_start)})
    return {(r["kind"], float(r["threshold"])) for r in rows}


def record(store: Store, alert: Alert) -> None:
    """Write the alert (again, with its delivery state: the newest row of a key wins)."""
    row = asdict(alert)
    row["filters"] = json.dumps(alert.filters, sort_keys=True)
    for key in ("period_start", "period_end", "fired_at"):
        row[key] = _stamp(row[key])
    row["updated_at"] = _stamp(datetime.now(UTC))
    store.insert_plain("budget_alerts", {c: [row[c]] for c in ALERT_COLUMNS})


def history(store: Store, since: datetime, budget: str = "", delivery: str = "", limit: int = 1000) -> list[Alert]:
    rows = store.rows(load(__package__, "alert_history"),
                      {"since": _naive(since), "budget": budget, "delivery": delivery, "limit": limit})  # fmt: skip
    alerts = []
    for r in rows:
        r["filters"] = json.loads(r["filters"] or "{}")
        for key in ("period_start", "period_end", "fired_at"):
            r[key] = r[key].replace(tzinfo=UTC) if r[key].tzinfo is None else r[key]
        alerts.append(Alert(**r))
    return alerts


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _stamp(moment: datetime) -> str:
    """DateTime64(3) as the JSON insert takes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _number(value: float):
    return int(value) if float(value).is_integer() else value

"""Where a budget stands now: its period, what was spent in it, the projection to the period's end, and which
thresholds that crosses. Spend is the usage report's (``Reports.usage`` with the budget's filters over the
period), so it is the number the reports and the dashboard show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .definitions import Budget
from .periods import Window, active_block, calendar_window, iso

TOKEN_MEASURES = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")


@dataclass
class BudgetStatus:
    budget: Budget
    source: str  # "file" or "api"
    window: Window | None
    spent: float = 0.0
    projection: float | None = None
    elapsed_fraction: float = 0.0
    crossed: list[float] = field(default_factory=list)

    @property
    def used_pct(self) -> float:
        return round(self.spent / self.budget.amount * 100, 4)

    @property
    def projected_overrun(self) -> bool:
        rule = self.budget.projected_overrun
        return (rule.enabled and self.projection is not None and self.projection >= self.budget.amount
                and self.spent < self.budget.amount)  # fmt: skip

    @property
    def level(self) -> str:
        """ok | warning (a threshold below 100 % crossed, or a projected overrun) | over (100 % spent): the colour
        a statusline or dashboard gives the budget."""
        if self.spent >= self.budget.amount:
            return "over"
        if self.crossed or self.projected_overrun:
            return "warning"
        return "ok"

    def to_dict(self) -> dict:
        return {
            **self.budget.public(),
            "source": self.source,
            "unit": self.budget.unit,
            "period_start": iso(self.window.start) if self.window else None,
            "period_end": iso(self.window.end) if self.window else None,
            "spent": self.spent,
            "used_pct": self.used_pct,
            "projection": self.projection,
            "projected_pct": round(self.projection / self.budget.amount * 100, 4)
            if self.projection is not None
            else None,
            "elapsed_pct": round(self.elapsed_fraction * 100, 4),
            "crossed": self.crossed,
            "overrun_projected": self.projected_overrun,
            "level": self.level,
        }


def budget_status(reports, budget: Budget, source: str, now: datetime, default_tz: str) -> BudgetStatus:
    tz = budget.tz or default_tz
    if budget.period == "block":
        window = active_block(reports, budget.filters, now)
    else:
        window = calendar_window(budget.period, now, tz)
    if window is None:  # no active block: nothing spent in one
        return BudgetStatus(budget, source, None)
    totals = reports.usage(since=iso(window.start), until=iso(window.end), tz=tz, filters=dict(budget.filters))[
        "totals"
    ]
    spent = spend(totals, budget.unit)
    fraction = window.elapsed_fraction(now)
    projection = None
    if fraction > 0 and fraction * 100 >= budget.projected_overrun.min_elapsed_pct:
        projection = round(spent / fraction, 9 if budget.unit == "usd" else 0)
    crossed = [t for t in budget.thresholds if spent >= budget.amount * t / 100]
    return BudgetStatus(budget, source, window, spent, projection, fraction, crossed)


def spend(totals: dict, unit: str) -> float:
    if unit == "usd":
        return float(totals.get("cost_usd") or 0.0)
    return float(sum(int(totals.get(m) or 0) for m in TOKEN_MEASURES))

"""The budgets door: the set (file + API), each budget's status, the alert history. The report layer's
``Reports.budgets`` / ``put_budgets`` / ``alerts`` and the evaluator thread go through it."""

from __future__ import annotations

from datetime import UTC, datetime

from ...errors import BadRequest
from ..query import EPOCH, parse_time
from . import ledger
from .definitions import Budget, BudgetsFile, parse_budgets
from .status import BudgetStatus, budget_status

_FILES: dict[str, BudgetsFile] = {}


class Budgets:
    def __init__(self, reports):
        self.reports = reports
        self.store = reports.store
        self.settings = reports.settings
        path = self.settings.budgets_file
        self.file = _FILES.setdefault(path, BudgetsFile(path))  # one reader per file: it is re-read on change

    def definitions(self) -> list[tuple[Budget, str]]:
        """(budget, source) for every budget: the file's first, then the API's."""
        return [(b, "file") for b in self.file.budgets()] + [(b, "api") for b in ledger.api_budgets(self.store)]

    def statuses(self, now: datetime | None = None) -> list[BudgetStatus]:
        now = now or datetime.now(UTC)
        tz = self.settings.resolved_tz()
        return [budget_status(self.reports, b, source, now, tz) for b, source in self.definitions()]

    def body(self, now: datetime | None = None) -> dict:
        return {"budgets": [s.to_dict() for s in self.statuses(now)], "file": self.file.path or None,
                "file_error": self.file.error or None}  # fmt: skip

    def put(self, body) -> dict:
        """Replace the API's budgets with ``body`` (``{"budgets": [...]}``); the file's stay as they are."""
        budgets = parse_budgets(body)
        from_file = {b.name for b in self.file.budgets()}
        clash = [b.name for b in budgets if b.name in from_file]
        if clash:
            raise BadRequest(f"budget {clash[0]!r} is defined in CCTELEMETRY_BUDGETS_FILE ({self.file.path}): "
                             "change it there, or give this one another name")  # fmt: skip
        ledger.save_api_budgets(self.store, budgets)
        return self.body()

    def alerts(self, budget: str | None = None, since: str | None = None, limit: int = 1000) -> dict:
        start = parse_time(since, self.settings.resolved_tz(), EPOCH)
        return {"alerts": [a.to_dict() for a in ledger.history(self.store, start, budget or "", limit=limit)]}

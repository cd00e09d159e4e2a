"""What a budget is: an amount in USD or tokens per period (day, week, month, 5-hour block) for the requests any
report filter selects, thresholds that alert, and a projected-overrun rule.

Budgets come from two places, read side by side: ``CCTELEMETRY_BUDGETS_FILE`` (JSON, the same shape as the API,
re-read when it changes) and ``PUT /api/v1/budgets`` (stored, ledger.py). A name is one budget: the API may not
redefine one of the file's.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ...errors import BadRequest
from ..query import is_dimension, valid_dimensions, zone

log = logging.getLogger(__name__)

PERIODS = ("day", "week", "month", "block")
# Other spellings people use for the 5-hour block.
PERIOD_ALIASES = {"5h": "block", "5-hour": "block", "5-hour block": "block", "five_hour": "block"}
DEFAULT_THRESHOLDS = [50.0, 80.0, 100.0]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:@/+-]{0,99}$")


class ProjectedOverrun(BaseModel):
    """Alert once per period when the spend, projected linearly to the period's end, reaches the amount while
    the spend itself has not; and only once ``min_elapsed_pct`` of the period has passed (a projection from
    the first minutes says little)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    min_elapsed_pct: float = Field(default=10.0, ge=0, le=100)


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Unique; letters, digits, space and _ . : @ / + -")
    period: Literal["day", "week", "month", "block"] = Field(
        description="day, week (from Monday) and month in tz; block: the active 5-hour block (5h, five_hour)."
    )
    amount_usd: float | None = Field(
        default=None,
        gt=0,
        le=1e12,
        allow_inf_nan=False,
        description="The budget in USD (cost_usd, the service's cost mode); or amount_tokens.",
    )
    amount_tokens: int | None = Field(
        default=None, gt=0, le=10**18, description="The budget in tokens (input + output + cache read + cache write)."
    )
    filters: dict[str, str] = Field(default_factory=dict, description="Any report filter: user, project, model, "
                                    "agent, attr.team, ...")  # fmt: skip
    thresholds: list[float] = Field(default_factory=lambda: list(DEFAULT_THRESHOLDS), description="Percents of "
                                    "the amount that alert, once per period each.")  # fmt: skip
    webhook: str | None = Field(default=None, description="http(s) URL that receives each alert as JSON (with a "
                                "Slack-compatible text).")  # fmt: skip
    projected_overrun: ProjectedOverrun = Field(default_factory=ProjectedOverrun)
    tz: str | None = Field(default=None, description="IANA time zone of day/week/month; default the service's.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                "a name is 1-100 letters, digits, spaces or _ . : @ / + -, starting with a letter or digit"
            )
        return value

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value):
        return PERIOD_ALIASES.get(value, value) if isinstance(value, str) else value

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [k for k in value if not is_dimension(k)]
        if unknown:
            raise ValueError(f"cannot filter on {', '.join(unknown)}; use {valid_dimensions()}")
        return value

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: list[float]) -> list[float]:
        if not value:
            raise ValueError("give at least one threshold (percent of the amount)")
        if not all(math.isfinite(t) and 0 < t <= 1000 for t in value):
            raise ValueError("a threshold is a percent of the amount, above 0 and at most 1000")
        return sorted(set(float(t) for t in value))

    @field_validator("webhook")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("the webhook must be an http:// or https:// URL")
        return value

    @field_validator("projected_overrun", mode="before")
    @classmethod
    def _projected(cls, value):
        return {"enabled": value} if isinstance(value, bool) else value

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        if value:
            zone(value)
        return value or None

    @model_validator(mode="after")
    def _one_amount(self) -> Budget:
        if (self.amount_usd is None) == (self.amount_tokens is None):
            raise ValueError("give exactly one of amount_usd and amount_tokens")
        return self

    @property
    def unit(self) -> str:
        return "usd" if self.amount_usd is not None else "tokens"

    @property
    def amount(self) -> float:
        if self.amount_usd is not None:
            return float(self.amount_usd)
        assert self.amount_tokens is not None  # _one_amount: exactly one of the two is set
        return float(self.amount_tokens)

    def public(self) -> dict:
        """The definition as PUT takes it (an amount that is not set is left out)."""
        body = self.model_dump()
        body.pop("amount_tokens" if self.unit == "usd" else "amount_usd")
        return body


class BudgetSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    budgets: list[Budget] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _unique(self) -> BudgetSet:
        seen: set[str] = set()
        for budget in self.budgets:
            if budget.name in seen:
                raise ValueError(f"two budgets are named {budget.name!r}: names must be unique")
            seen.add(budget.name)
        return self


def parse_budgets(body, where: str = "budgets") -> list[Budget]:
    """Validate ``{"budgets": [...]}``; a mistake is one BadRequest naming the budget and the field."""
    if isinstance(body, list):
        body = {"budgets": body}
    try:
        return BudgetSet.model_validate(body).budgets
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first.get("loc", ()))
        if len(loc) >= 2 and loc[0] == "budgets" and isinstance(loc[1], int):
            items = body.get("budgets") if isinstance(body, dict) else None
            name = items[loc[1]].get("name") if isinstance(items, list) and isinstance(items[loc[1]], dict) else None
            loc = [f"budget {loc[1]}" + (f" ({name!r})" if name else ""), *(str(p) for p in loc[2:])]
        field = ".".join(str(p) for p in loc)
        message = first.get("msg", "invalid").removeprefix("Value error, ")
        raise BadRequest(f"{where}: {field + ': ' if field else ''}{message}") from exc


class BudgetsFile:
    """``CCTELEMETRY_BUDGETS_FILE``, re-read when its size or modification time changes. A file that cannot be
    read or has a mistake gives no budgets and says why (``error``); nothing else stops."""

    def __init__(self, path: str):
        self.path = os.path.expanduser(path) if path else ""
        self._stamp: tuple | None = None
        self._budgets: list[Budget] = []
        self.error = ""

    def budgets(self) -> list[Budget]:
        if not self.path:
            return []
        try:
            st = os.stat(self.path)
            stamp = (st.st_size, st.st_mtime_ns)
        except OSError as exc:
            self._stamp, self._budgets, self.error = None, [], f"cannot read {self.path}: {exc.strerror}"
            return []
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                with open(self.path, encoding="utf-8") as f:
                    body = json.load(f)
                self._budgets, self.error = parse_budgets(body, where=self.path), ""
            except (OSError, ValueError, BadRequest) as exc:
                message = exc.message if isinstance(exc, BadRequest) else f"{self.path}: {exc}"
                self._budgets, self.error = [], message
                log.error("budgets file not used", extra={"error": message})
        return list(self._budgets)

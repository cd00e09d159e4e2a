"""Budgets and alerts: definitions (file and API), their status in the current period, the alert history, the
evaluator thread that fires alerts as data arrives, and webhook deliveries."""

from __future__ import annotations

from .catalog import Budgets
from .definitions import Budget, BudgetSet, parse_budgets
from .evaluator import BudgetEvaluator
from .webhooks import WebhookSender

__all__ = ["Budget", "BudgetSet", "Budgets", "BudgetEvaluator", "WebhookSender", "parse_budgets"]

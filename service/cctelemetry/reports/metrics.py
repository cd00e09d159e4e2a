"""What the store says, as Prometheus counters: totals since the beginning, per label set.

Two sources, both in the store, so a restart changes nothing and ``rate()`` works:

- **Tokens, cost and requests** come from the deduplicated, priced requests, through the same grouped report
  as ``GET /api/v1/usage`` (reports/usage.py ``grouped``) over all time: a family's values add up to the
  usage report's totals, in the service's cost mode (``CCTELEMETRY_COST_MODE``).
- **The agents' own counters** (sessions, lines of code, commits, pull requests, active time, edit decisions)
  come from the stored OTLP points of monotonic sums (``metric_counter_points``, migration 0013, kept for the
  retention rather than the raw tables' 72 h): delta points add up, a cumulative stream counts its largest
  value (sql/metric_counters.sql).

Names are those the collector's Prometheus exporter gives the agents' metrics (``prometheus_name``), so a
dashboard that reads the collector's port works unchanged. Each agent is one entry of ``AGENTS``.

Cardinality: every family has at most ``CCTELEMETRY_METRICS_MAX_SERIES`` label sets. The label sets seen first
(by their first request or point) keep their own series; the later ones are summed into one series whose
labels all read ``other``. First-seen order does not change as data arrives, so a series never moves in or
out of ``other``, and every series only grows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily

from ..config import Settings
from ..store import Store
from ..store.sqlfiles import load
from . import cache as result_cache
from .query import RequestFilter
from .scope import Pricing
from .usage import USAGE_MEASURES, grouped

OTHER = "other"

# The report dimensions that become labels on the request families, under their own names.
REQUEST_LABELS = ("model", "user", "agent", "query_source", "project")

# Claude Code's token types, the label values of claude_code.token.usage, and the report measure of each.
CLAUDE_TOKEN_TYPES = {"input": "input_tokens", "output": "output_tokens", "cacheRead": "cache_read_tokens",
                      "cacheCreation": "cache_creation_tokens"}  # fmt: skip


@dataclass(frozen=True)
class Counter:
    """An agent's own OTLP counter (a monotonic sum), with the point attributes that become labels."""

    metric: str
    unit: str = ""
    labels: tuple[str, ...] = ()
    help: str = ""

    @property
    def name(self) -> str:
        return prometheus_name(self.metric, self.unit)


@dataclass(frozen=True)
class AgentMetrics:
    """One agent: the families built from its requests (named as its tokens and cost metrics would be) and the
    OTLP counters it sends. ``product`` is its ``agent_product`` in the store."""

    product: str
    tokens: Counter
    cost: Counter
    token_types: dict[str, str] = field(default_factory=lambda: dict(CLAUDE_TOKEN_TYPES))
    counters: tuple[Counter, ...] = ()


# Claude Code: https://code.claude.com/docs/en/monitoring-usage#metrics. Codex and Gemini CLI send no cost and
# (Codex) no token counter of their own: their families carry the same measures under their prefix.
AGENTS: tuple[AgentMetrics, ...] = (
    AgentMetrics(
        "claude_code",
        tokens=Counter("claude_code.token.usage", "tokens", help="Tokens used, by type (from each api_request)."),
        cost=Counter(
            "claude_code.cost.usage",
            "USD",
            help="Cost in USD (the report's cost_usd, in the service's cost mode: the reported cost in auto mode).",
        ),  # fmt: skip
        counters=(
            Counter("claude_code.session.count", labels=("start_type",), help="Sessions started."),
            Counter(
                "claude_code.lines_of_code.count", labels=("type", "model"), help="Lines of code added or removed."
            ),
            Counter("claude_code.commit.count", help="Git commits made."),
            Counter("claude_code.pull_request.count", help="Pull requests created."),
            Counter("claude_code.active_time.total", "s", labels=("type",), help="Active time, in seconds."),
            Counter(
                "claude_code.code_edit_tool.decision",
                labels=("tool_name", "decision", "source", "language"),
                help="Edit, Write and NotebookEdit permission decisions.",
            ),  # fmt: skip
        ),
    ),
    AgentMetrics(
        "codex",
        tokens=Counter("codex.token.usage", "tokens", help="Tokens used by Codex, by type (from its responses)."),
        cost=Counter("codex.cost.usage", "USD", help="Cost of Codex requests in USD (computed from the price book)."),
    ),
    AgentMetrics(
        "gemini_cli",
        tokens=Counter(
            "gemini_cli.token.usage",
            "tokens",
            help="Tokens used by Gemini CLI, by type (from its "
            "api_response events; input excludes cached tokens, as in every report).",
        ),  # fmt: skip
        cost=Counter("gemini_cli.cost.usage", "USD", help="Cost of Gemini CLI requests in USD (computed)."),
        counters=(
            Counter("gemini_cli.session.count", help="Gemini CLI sessions started."),
            Counter("gemini_cli.lines.changed", labels=("type",), help="Lines changed by Gemini CLI."),
            Counter(
                "gemini_cli.tool.call.count",
                labels=("function_name", "success", "decision"),
                help="Gemini CLI tool calls.",
            ),  # fmt: skip
        ),
    ),
)

REQUESTS = Counter("cctelemetry.api_requests", help="Model requests, each counted once (as the reports count them).")
COMPUTED_COST = Counter("cctelemetry.computed_cost", "USD", help="Cost in USD from the price book (computed_cost_usd); "
                        "requests of a model the book does not know are left out, never $0.")  # fmt: skip


# -- names: the collector's Prometheus exporter (prometheus/otlptranslator, UnderscoreEscapingWithSuffixes) --

# UCUM units the translator spells out (otlptranslator unitMap); any other unit is kept as written (USD, tokens).
_UNITS = {"d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds",
          "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes",
          "TiBy": "tibibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
          "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams", "Cel": "celsius",
          "Hz": "hertz", "%": "percent", "1": ""}  # fmt: skip
_SPLIT = re.compile(r"[^a-zA-Z0-9:]+")


def prometheus_name(metric: str, unit: str = "", counter: bool = True) -> str:
    """The name the collector's exporter gives a metric, without the ``_total`` a counter gets (prometheus_client
    adds it): split on anything outside [a-zA-Z0-9:], append the unit unless the name has it, and for a counter
    drop any ``total`` token (it is re-appended). https://github.com/prometheus/otlptranslator (metric_namer.go)"""
    tokens = [t for t in _SPLIT.split(metric) if t]
    if not re.search(r"\{.*\}", unit or ""):
        main = (unit or "").split("/", 1)[0]
        word = _UNITS.get(main, main)
        if word and word not in tokens:
            tokens.append(word)
    if counter:
        tokens = [t for t in tokens if t != "total"]
    return "_".join(tokens)


def label_name(key: str) -> str:
    """An attribute key as a label name: anything outside [a-zA-Z0-9_] becomes '_' (otlptranslator label_namer)."""
    name = re.sub(r"[^a-zA-Z0-9_]", "_", key)
    return f"key_{name}" if name[:1].isdigit() else name


def attribute_labels(settings: Settings) -> dict[str, str]:
    """Resource attribute key -> label name, for the keys ``CCTELEMETRY_METRICS_ATTRIBUTES`` lists. A name that
    one of our own labels has already gets an ``attr_`` prefix."""
    taken = set(REQUEST_LABELS) | {"type", "agent_product"}
    taken |= {label_name(k) for agent in AGENTS for c in agent.counters for k in c.labels}
    out: dict[str, str] = {}
    for key in (k.strip() for k in settings.metrics_attributes.split(",")):
        if key and key not in out:
            name = label_name(key)
            out[key] = f"attr_{name}" if name in taken else name
    return out


# -- the families ---------------------------------------------------------------------------------------------


def store_families(store: Store, settings: Settings) -> list[CounterMetricFamily]:
    """Every counter the store gives, for every agent that has data (an agent without any has no family)."""
    attrs = attribute_labels(settings)
    rows = request_rows(store, settings, list(attrs))
    labels = request_label_keys(attrs)
    families: list[CounterMetricFamily] = []
    for agent in AGENTS:
        mine = [r for r in rows if r["agent_product"] == agent.product]
        if mine:
            measures = ("cost_usd", *agent.token_types.values())
            families += agent_request_families(agent, fold(mine, labels, settings.metrics_max_series, measures), attrs)
    families += shared_request_families(rows, attrs, settings.metrics_max_series)
    families += counter_families(store, settings, attrs)
    return families


def request_label_keys(attrs: dict[str, str]) -> tuple[str, ...]:
    """The keys of a request row that are labels: the dimensions, then ``attr.<key>`` for each attribute."""
    return REQUEST_LABELS + tuple(f"attr.{k}" for k in attrs)


def request_rows(store: Store, settings: Settings, attr_keys: list[str]) -> list[dict]:
    """One row per label set over all time: the usage report grouped by agent_product and the label dimensions,
    with when each label set was first seen (the order of the cardinality bound)."""
    group_by = ["agent_product", *REQUEST_LABELS, *(f"attr.{k}" for k in attr_keys)]
    flt = RequestFilter.build(tz="UTC", agent_type_attribute=settings.agent_type_attribute, group_by=group_by)
    measures = USAGE_MEASURES + ",\n    min(first_at) AS first_seen"
    rows, _ = grouped(store, flt, group_by, measures, Pricing.from_settings(settings), limit=10_000_000,
                      first_last=True)  # fmt: skip
    return rows


def fold(rows: list[dict], labels: tuple[str, ...], max_sets: int, measures: tuple[str, ...]) -> list[dict]:
    """At most ``max_sets`` label sets: the first seen keep theirs, the rest are summed under ``other``."""
    rows = sorted(rows, key=lambda r: (r["first_seen"], tuple(str(r[k]) for k in labels)))
    if len(rows) <= max_sets:
        return rows
    kept, rest = rows[: max_sets - 1], rows[max_sets - 1 :]
    other: dict[str, Any] = {k: OTHER for k in labels}
    for m in measures:
        values = [r[m] for r in rest if r.get(m) is not None]
        other[m] = sum(values) if values else None
    return kept + [other]


def agent_request_families(agent: AgentMetrics, rows: list[dict], attrs: dict[str, str]) -> list[CounterMetricFamily]:
    names = [*REQUEST_LABELS, *attrs.values()]
    tokens = CounterMetricFamily(agent.tokens.name, agent.tokens.help, labels=["type", *names])
    cost = CounterMetricFamily(agent.cost.name, agent.cost.help, labels=names)
    for row in rows:
        values = label_values(row, attrs)
        for token_type, measure in agent.token_types.items():
            tokens.add_metric([token_type, *values], float(row[measure] or 0))
        if row["cost_usd"] is not None:  # an unknown model has no cost: left out, never $0
            cost.add_metric(values, float(row["cost_usd"]))
    return [tokens, cost]


def shared_request_families(rows: list[dict], attrs: dict[str, str], max_sets: int) -> list[CounterMetricFamily]:
    """Requests and computed cost of every agent (ours, no agent has them), with an ``agent_product`` label."""
    names = ["agent_product", *REQUEST_LABELS, *attrs.values()]
    requests = CounterMetricFamily(REQUESTS.name, REQUESTS.help, labels=names)
    computed = CounterMetricFamily(COMPUTED_COST.name, COMPUTED_COST.help, labels=names)
    by_product: dict[str, list[dict]] = {}
    for row in rows:
        by_product.setdefault(row["agent_product"], []).append(row)
    for product, mine in sorted(by_product.items()):
        for row in fold(mine, request_label_keys(attrs), max_sets, ("requests", "computed_cost_usd")):
            values = [product, *label_values(row, attrs)]
            requests.add_metric(values, float(row["requests"]))
            if row["computed_cost_usd"] is not None:
                computed.add_metric(values, float(row["computed_cost_usd"]))
    return [requests, computed] if rows else []


def label_values(row: dict, attrs: dict[str, str]) -> list[str]:
    return [str(row[k] or "") for k in request_label_keys(attrs)]


def counter_families(store: Store, settings: Settings, attrs: dict[str, str]) -> list[CounterMetricFamily]:
    counters = [c for agent in AGENTS for c in agent.counters]
    point_labels = sorted({k for c in counters for k in c.labels})
    params = {"metrics": [c.metric for c in counters], "point_labels": point_labels, "resource_labels": list(attrs)}
    rows = counter_rows(store, params)
    families = []
    for counter in counters:
        mine = [r for r in rows if r["metric"] == counter.metric]
        if not mine:
            continue
        keys = ("user", *(f"point.{k}" for k in counter.labels), *(f"attr.{k}" for k in attrs))
        merged: dict[tuple, dict] = {}
        for r in mine:  # the query groups by every listed point attribute: sum over those this counter lacks
            points, resource = (
                dict(zip(point_labels, r["point_values"], strict=True)),
                dict(zip(attrs, r["resource_values"], strict=True)),
            )
            row = {"user": r["user"], **{f"point.{k}": points[k] for k in counter.labels},
                   **{f"attr.{k}": resource[k] for k in attrs}}  # fmt: skip
            kept = merged.setdefault(tuple(row[k] for k in keys), {**row, "value": 0.0, "first_seen": r["first_seen"]})
            kept["value"] += r["value"]
            kept["first_seen"] = min(kept["first_seen"], r["first_seen"])
        family = CounterMetricFamily(
            counter.name, counter.help, labels=["user", *(label_name(k) for k in counter.labels), *attrs.values()]
        )
        for row in fold(list(merged.values()), keys, settings.metrics_max_series, ("value",)):
            family.add_metric([str(row[k]) for k in keys], float(row["value"] or 0))
        families.append(family)
    return families


def counter_rows(store: Store, params: dict) -> list[dict]:
    """The stored counters' totals per label set; in the service, kept while metric_counter_points is unchanged."""
    sql = load(__package__, "metric_counters")

    def run() -> list[dict]:
        return store.rows(sql, params)

    cache = result_cache.for_store(store)
    if cache is None:
        return run()
    return cache.get(store, ("metric_counter_points",), (sql, result_cache.params_key(params)), run)


class _Families:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def exposition(families: list) -> str:
    """The Prometheus text format of ``families`` (the CLI's ``metrics`` over a store opened here)."""
    registry = CollectorRegistry()
    registry.register(_Families(families))
    return generate_latest(registry).decode()


__all__ = ["AGENTS", "AgentMetrics", "Counter", "prometheus_name", "store_families", "attribute_labels"]

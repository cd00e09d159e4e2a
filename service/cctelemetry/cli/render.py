"""Printing reports: Rich tables for people, the API's JSON with --json, CSV with --csv."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from ..reports.export import to_csv

# Piped output is not cut to 80 columns.
console = Console(width=None if sys.stdout.isatty() else 200)

_MONEY = ("cost_usd", "reported_cost_usd", "computed_cost_usd")


def emit(body: dict, rows_key: str = "rows", as_json: bool = False, as_csv: bool = False, title: str = "",
         totals: dict | None = None) -> None:  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps(body, indent=2, default=str) + "\n")
    elif as_csv:
        sys.stdout.write(to_csv(body.get(rows_key) or []))
    else:
        print_table(body.get(rows_key) or [], title=title, totals=totals)


def print_table(rows: list[dict[str, Any]], title: str = "", totals: dict | None = None) -> None:
    if not rows:
        console.print(f"[dim]{title + ': ' if title else ''}no data[/dim]")
        return
    columns = list(rows[0])
    table = Table(title=title or None, show_footer=totals is not None, header_style="bold")
    for col in columns:
        numeric = isinstance(rows[0][col], (int, float)) or col in _MONEY
        footer = fmt(col, totals[col]) if totals and col in totals else ("TOTAL" if col == columns[0] else "")
        table.add_column(col, justify="right" if numeric else "left", footer=footer)
    for row in rows:
        table.add_row(*(fmt(c, row[c]) for c in columns))
    console.print(table)


def fmt(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column in _MONEY or column.endswith("_usd"):
        return f"${value:,.4f}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)

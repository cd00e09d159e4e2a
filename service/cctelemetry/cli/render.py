"""Printing reports: tables for people, the API's JSON with --json, CSV with --csv.

Tables look as Rich draws them (its default box), but their rows are drawn here as text: Rich's Table costs
~100 us a cell, and `cctelemetry blocks` over a year of a team's use has thousands of rows (4 s -> 0.1 s).

Tables fit the terminal (its width, or ``COLUMNS``): when all columns do not
fit, the least important are left out and the caption says which (``--wide`` shows them all); the ones
that remain are never cut, so ids and money are always whole. Money is printed as money: ``$12.34``,
``$0.0571``, ``$0.000018``, never ``1.8e-05``; CSV has plain decimals.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from decimal import Decimal
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..reports.export import to_csv

MONEY_SUFFIX = "_usd"
# Dropped first when a table is too wide (the rest keep their order).
LOW_PRIORITY = ("computed_cost_usd", "reported_cost_usd", "agents", "cache_creation_tokens", "cache_read_tokens",
                "first_seen", "models", "input_tokens", "output_tokens", "duration_ms")  # fmt: skip


def width() -> int:
    """The terminal's width; ``COLUMNS`` when set; 200 when the output is piped (nothing is cut there)."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if sys.stdout.isatty():
        return shutil.get_terminal_size((100, 24)).columns
    return 200


console = Console(width=width(), highlight=False, emoji=False)  # ":" in times is not an emoji code (and 70 ms)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)  # an error is one line, however long


def emit(body: dict, rows_key: str = "rows", as_json: bool = False, as_csv: bool = False, title: str = "",
         totals: dict | None = None, wide: bool = False, caption: str = "") -> None:  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps(body, indent=2, default=str) + "\n")
    elif as_csv:
        sys.stdout.write(to_csv([{k: csv_cell(k, v) for k, v in row.items()} for row in body.get(rows_key) or []]))
    else:
        print_table(body.get(rows_key) or [], title=title, totals=totals, wide=wide, caption=caption)


def print_table(rows: list[dict[str, Any]], title: str = "", totals: dict | None = None, wide: bool = False,
                caption: str = "", keep: tuple[str, ...] = ()) -> None:  # fmt: skip
    if not rows:
        console.print(f"[dim]{title + ': ' if title else ''}no data[/dim]")
        if caption:
            console.print(f"[dim]{caption}[/dim]")
        return
    columns = list(rows[0])
    cells = {c: [fmt(c, r.get(c)) for r in rows] for c in columns}
    footers = {c: (fmt(c, totals[c]) if totals and c in totals else "") for c in columns}
    if totals:
        footers[columns[0]] = footers[columns[0]] or "TOTAL"
    sizes = {c: max([cell_len(c), cell_len(footers[c])] + [cell_len(x) for x in cells[c]]) + 3 for c in columns}
    shown, hidden = _fit(columns, sizes, console.width, wide, keep)
    right = {c for c in shown if isinstance(rows[0].get(c), (int, float)) or c.endswith(MONEY_SUFFIX)}
    grid = BoxGrid([sizes[c] - 3 for c in shown], [c in right for c in shown])
    out = console if not wide else Console(width=max(console.width, sum(sizes.values()) + 1), highlight=False)
    if grid.width > out.width:  # wider than the terminal even so: Rich's Table fits it as best it can
        _print_rich_table(out, rows, shown, right, cells, footers, sizes, title, totals is not None, caption, hidden)
        return
    if title:
        centred = " " * max(0, (grid.width - cell_len(title)) // 2) + title
        out.print(Text(centred.ljust(grid.width), style="table.title"), crop=False)
    out.print(grid.rule("┏", "━", "┳", "┓") + "\n" + grid.line("┃", shown), style="bold", crop=False, markup=False)
    out.print(grid.rule("┡", "━", "╇", "┩"), crop=False, markup=False)
    # the body as text, not through Rich: 100 us a cell there, and a year of blocks or sessions has thousands
    out.file.write("".join(grid.line("│", [cells[c][i] for c in shown]) + "\n" for i in range(len(rows))))
    if totals is not None:
        out.print(grid.rule("├", "─", "┼", "┤"), crop=False, markup=False)
        out.print(grid.line("│", [footers[c] for c in shown]), style="bold", crop=False, markup=False)
    out.print(grid.rule("└", "─", "┴", "┘"), crop=False, markup=False)
    text = _caption(caption, hidden)
    if text:
        out.print(Text("\n".join(line.ljust(grid.width) for line in text.splitlines()), style="table.caption"),
                  crop=False)  # fmt: skip


class BoxGrid:
    """The lines of a table drawn as Rich draws its default (box.HEAVY_HEAD, one space of padding): columns
    of fixed widths, each left- or right-justified."""

    def __init__(self, widths: list[int], right: list[bool]) -> None:
        self.widths, self.right = widths, right
        self.width = sum(widths) + 3 * len(widths) + 1

    def rule(self, left: str, fill: str, cross: str, end: str) -> str:
        return left + cross.join(fill * (w + 2) for w in self.widths) + end

    def line(self, edge: str, values: list[str]) -> str:
        parts = []
        for value, w, right in zip(values, self.widths, self.right, strict=True):
            pad = " " * (w - cell_len(value))
            parts.append(f" {pad}{value} " if right else f" {value}{pad} ")
        return edge + edge.join(parts) + edge


def _print_rich_table(out: Console, rows: list[dict[str, Any]], shown: list[str], right: set[str],
                      cells: dict[str, list[str]], footers: dict[str, str], sizes: dict[str, int], title: str,
                      with_footer: bool, caption: str, hidden: list[str]) -> None:  # fmt: skip
    table = Table(title=title or None, show_footer=with_footer, header_style="bold",
                  caption=_caption(caption, hidden), caption_justify="left")  # fmt: skip
    for c in shown:
        table.add_column(c, justify="right" if c in right else "left", footer=footers[c], no_wrap=True,
                         min_width=sizes[c] - 3)  # fmt: skip
    for i in range(len(rows)):
        table.add_row(*(Text(cells[c][i]) for c in shown))
    out.print(table)


def _fit(columns: list[str], sizes: dict[str, int], limit: int, wide: bool, keep: tuple[str, ...]):
    shown = list(columns)
    if wide:
        return shown, []
    hidden = []
    for c in LOW_PRIORITY:
        if sum(sizes[s] for s in shown) + 1 <= limit:
            break
        if c in shown and c not in keep and len(shown) > 1:
            shown.remove(c)
            hidden.append(c)
    return shown, hidden


def _caption(caption: str, hidden: list[str]) -> str | None:
    parts = [caption] if caption else []
    if hidden:
        parts.append(f"not shown: {', '.join(hidden)} (--wide shows every column)")
    return "\n".join(parts) or None


def money(value: float) -> str:
    """``$1,234.56``, ``$0.0571``, ``$0.000018``: two decimals from $1, four below, and two significant
    digits below a cent; never an exponent."""
    sign = "-" if value < 0 else ""
    x = abs(value)
    if x == 0:
        return "$0.00"
    if x >= 1:
        return f"{sign}${x:,.2f}"
    if x >= 0.01:
        return f"{sign}${x:.4f}"
    decimals = min(12, 1 - math.floor(math.log10(x)))
    return f"{sign}${x:.{decimals}f}".rstrip("0").rstrip(".")


def plain_decimal(value: float) -> str:
    """A float as a plain decimal (``0.000018``), its shortest round-trip digits, for CSV."""
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def csv_cell(column: str, value: Any) -> Any:
    if isinstance(value, float) and not isinstance(value, bool):
        return plain_decimal(value)
    return value


def fmt(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column.endswith(MONEY_SUFFIX) and isinstance(value, (int, float)):
        return money(float(value))
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)

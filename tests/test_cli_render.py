"""The CLI's tables (cli/render.py): drawn as text in Rich's own default look, fast for thousands of rows."""

from __future__ import annotations

import io
import time

import pytest
from rich.console import Console
from rich.table import Table

from cctelemetry.cli import render

ROWS = [
    {"day": "2026-01-01", "project": "ünïcode 漢字", "requests": 12, "cost_usd": 1.5},
    {"day": "2026-01-02", "project": "[bold]not markup[/bold]", "requests": 1234567, "cost_usd": 0.01},
]
TOTALS = {"requests": 1234579, "cost_usd": 1.51}


@pytest.fixture
def out(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(render, "console", Console(file=buffer, width=100, highlight=False, emoji=False))
    return buffer


def rich_drawn(rows, title, totals, caption) -> str:
    """What Rich's Table prints for the same cells (the look the CLI had before it drew tables itself)."""
    buffer = io.StringIO()
    table = Table(title=title, show_footer=totals is not None, header_style="bold", caption=caption,
                  caption_justify="left")  # fmt: skip
    columns = list(rows[0])
    for c in columns:
        right = isinstance(rows[0][c], (int, float))
        footer = render.fmt(c, totals[c]) if totals and c in totals else ("TOTAL" if totals and c == columns[0] else "")
        table.add_column(c, justify="right" if right else "left", footer=footer, no_wrap=True)
    for r in rows:
        table.add_row(*(render.Text(render.fmt(c, r[c])) for c in columns))
    Console(file=buffer, width=100, highlight=False, emoji=False).print(table)
    return buffer.getvalue()


@pytest.mark.parametrize("totals", [TOTALS, None])
def test_a_table_looks_as_rich_draws_it(out, totals):
    render.print_table(ROWS, title="usage by day", totals=totals, caption="a caption")
    assert out.getvalue() == rich_drawn(ROWS, "usage by day", totals, "a caption")


def test_cells_are_text_not_markup(out):
    render.print_table(ROWS)
    assert "[bold]not markup[/bold]" in out.getvalue()


def test_thousands_of_rows_print_quickly(out):
    """`cctelemetry blocks` over a year of a team's use is ~6,000 rows: Rich's Table took 4 s for them."""
    rows = [{"user": f"dev{i % 20}@example.com", "start": "2026-01-01 10:00", "status": "4h 22m",
             "models": ["claude-sonnet-4-5", "claude-haiku-4-5"], "requests": i, "total_tokens": i * 1000,
             "cost_usd": i / 7} for i in range(6000)]  # fmt: skip
    started = time.perf_counter()
    render.print_table(rows, title="5-hour blocks", totals={"requests": 1, "cost_usd": 2.0})
    took = time.perf_counter() - started
    assert out.getvalue().count("\n") == 6000 + 8  # title, 3 head lines, 2 foot lines, bottom, caption
    assert took < 1.5, f"{took:.2f} s for 6,000 rows"


def test_a_table_wider_than_the_terminal_is_left_to_rich(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(render, "console", Console(file=buffer, width=30, highlight=False, emoji=False))
    render.print_table([{"session": "x" * 80, "cost_usd": 1.0}])
    assert all(len(line) <= 30 for line in buffer.getvalue().splitlines())
    assert "│ xxxxxxxxxx" in buffer.getvalue()

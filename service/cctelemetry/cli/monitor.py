"""``cctelemetry monitor`` (a live view of what is happening now), ``cctelemetry limits`` (the official rate
limits) and ``cctelemetry statusline`` (listed here; run through cctelemetry/entry.py without this CLI).

The monitor reads a running service (``GET /api/v1/monitor``, kept computed by the service) or, when none
runs, the store itself, every ``--interval`` seconds; it never reads transcripts. Ctrl-C ends it.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .blocks import duration, parse
from .current import Agent, Project, current_scope
from .options import ApiUrl, DataDir, Json, Mode, Tz, Where, ask, filters
from .render import console, money

WINDOW_LABELS = {"five_hour": "5-hour", "seven_day": "7-day"}


def monitor(
    session: Annotated[
        str | None, typer.Argument(help="One session id, or current; default every active session.")
    ] = None,
    interval: Annotated[float, typer.Option("--interval", "-i", min=0.2, help="Seconds between refreshes.")] = 2.0,
    once: Annotated[bool, typer.Option("--once", help="Print one snapshot and exit.")] = False,
    active_minutes: Annotated[
        int | None,
        typer.Option(
            "--active-minutes",
            min=1,
            help="Active: a request in the last this many minutes (default CCTELEMETRY_MONITOR_ACTIVE_MINUTES, 30).",
        ),
    ] = None,  # fmt: skip
    user: Annotated[str | None, typer.Option("--user", help="Only this person.")] = None,
    project: Project = None,
    agent: Agent = None,
    mode: Mode = None,
    tz: Tz = None,
    where: Where = None,
    json_: Json = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """Live: active sessions (cost, tokens, burn rate, cache hits), each person's 5-hour block with its
    projection, the official limits with their forecast, and today. --once --json for scripts."""
    scope = filters(where) | ({"user": user} if user else {})

    def snapshot(source) -> dict:
        return source.monitor(session=session, active_minutes=active_minutes, tz=tz, mode=mode, filters=scope)

    if session == "current":
        found, _ = ask(data_dir, api_url, lambda s: s.current_session(**current_scope(project, agent)))
        session = found["current"]["session"]
    if once:
        _print(ask(data_dir, api_url, snapshot)[0], json_)
        return
    with _until_interrupted() as stopped:
        body, source = ask(data_dir, api_url, snapshot)
        if json_:
            _print(body, True)
            while not stopped.wait(interval):
                body = _ask_again(snapshot, source)
                _print(body, True)
            return
        with Live(render_monitor(body, source), console=console, refresh_per_second=4, screen=False) as live:
            while not stopped.wait(interval):
                body = _ask_again(snapshot, source)
                live.update(render_monitor(body, source))


@contextmanager
def _until_interrupted():
    """An event that Ctrl-C sets. The loop stops at its next wait and leaves Rich's Live display through its
    own exit: a KeyboardInterrupt raised anywhere (inside Live's lock, say) could leave its refresh thread
    waiting for ever."""
    stopped = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stopped.set())
    try:
        yield stopped
    finally:
        signal.signal(signal.SIGINT, previous)


def _ask_again(snapshot, source) -> dict:
    from ..errors import TelemetryError
    from .options import fail

    try:
        return snapshot(source)
    except TelemetryError as exc:
        fail(exc)
        raise


def _print(body: dict, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(body, default=str) + "\n")
        sys.stdout.flush()
    else:
        console.print(render_monitor(body))


def render_monitor(body: dict, source=None) -> Group:
    """The monitor's view of one snapshot (``GET /api/v1/monitor``'s body)."""
    now = parse(body["now"])
    title = (f"[bold]cctelemetry monitor[/bold]  {now.astimezone().strftime('%H:%M:%S')}  "
             f"[dim]mode {body['mode']}, sessions active in the last {body['active_minutes']} min"
             f"{_where(source)}[/dim]")  # fmt: skip
    parts: list[RenderableType] = [Text.from_markup(title)]
    parts.append(_sessions(body["sessions"], now))
    for block in body["blocks"]:
        parts.append(_block(block, now))
    if not body["blocks"]:
        parts.append(Text.from_markup("[dim]no active 5-hour block[/dim]"))
    parts += _limits(body["limits"], now)
    parts.append(_today(body["today"]))
    return Group(*parts)


def _where(source) -> str:
    if source is None:
        return ""
    from .source import describe

    return f"; {describe(source)}"


def _sessions(rows: list[dict], now: datetime) -> Table | Text:
    if not rows:
        return Text.from_markup("[dim]no active session[/dim]")
    table = Table(title="sessions", title_justify="left", header_style="bold", expand=False)
    for name in ("session", "user", "models", "req", "in", "out", "cache read", "cache write", "cost", "$/h",
                 "tok/min", "cache hits", "last"):  # fmt: skip
        table.add_column(name, justify="left" if name in ("session", "user", "models") else "right", no_wrap=True)
    for r in rows:
        rate = r.get("burn_rate") or {}
        table.add_row(
            r["session"][:8],
            escape(r["user"] or "-"),
            escape(", ".join(m.removeprefix("claude-") for m in r["models"])),
            f"{r['requests']:,}",
            _n(r["input_tokens"]),
            _n(r["output_tokens"]),
            _n(r["cache_read_tokens"]),
            _n(r["cache_creation_tokens"]),
            money(r["cost_usd"]) if r["cost_usd"] is not None else "-",
            money(rate["cost_usd_per_hour"]) if rate.get("cost_usd_per_hour") is not None else "-",
            _n(rate.get("tokens_per_minute")) if rate else "-",
            f"{r['cache_hit_ratio'] * 100:.0f}%" if r.get("cache_hit_ratio") is not None else "-",
            _ago(now, parse(r["last_seen"])),
        )
    return table


def _block(b: dict, now: datetime) -> Table:
    start, end = parse(b["start"]), parse(b["end"])
    elapsed = (now - start).total_seconds() / (end - start).total_seconds()
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    who = f" {escape(b['user'])}" if b["user"] else ""
    grid.add_row(
        Text.from_markup(f"[bold]5-hour block{who}[/bold]"),
        ProgressBar(total=1.0, completed=min(elapsed, 1.0), width=30),
    )
    text = (
        f"{start.astimezone().strftime('%H:%M')}–{end.astimezone().strftime('%H:%M')}, "
        f"{duration(b['minutes_remaining'] or 0)} left: {money(b['cost_usd'] or 0)}, {b['total_tokens']:,} tokens"
    )
    rate, projection = b.get("burn_rate"), b.get("projection")
    if rate and rate.get("cost_usd_per_hour") is not None:
        text += f"; burning {money(rate['cost_usd_per_hour'])}/h, {rate['tokens_per_minute']:,.0f} tokens/min"
    if projection and projection.get("cost_usd") is not None:
        by = end.astimezone().strftime("%H:%M")
        text += f"; at this rate {money(projection['cost_usd'])} and {projection['total_tokens']:,} tokens by {by}"
    grid.add_row("", Text(text))
    return grid


def _limits(limits: dict, now: datetime) -> list:
    out = []
    calibration = limits.get("calibration") or {}
    for window, label in WINDOW_LABELS.items():
        w = (limits.get("windows") or {}).get(window)
        if not w:
            continue
        used = w["used_percentage"]
        colour = "red" if used >= 80 else "yellow" if used >= 50 else "green"
        mark = (
            " [yellow](stale)[/yellow]"
            if w["stale"] and not w["expired"]
            else " [dim](reset since)[/dim]"
            if w["expired"]
            else ""
        )
        text = f"[{colour}]{used:.0f}%[/{colour}] official, seen {_ago(now, parse(w['observed_at']))}{mark}"
        if w.get("resets_at") and not w["expired"]:
            text += f", resets {parse(w['resets_at']).astimezone().strftime('%a %H:%M')}"
        estimate, forecast = w.get("estimate"), w.get("forecast")
        if estimate and estimate.get("used_percentage") is not None:
            text += f"; ~{estimate['used_percentage']:.0f}% now (estimated)"
        if forecast and forecast.get("reaches_100_at"):
            at = parse(forecast["reaches_100_at"])
            when = at.astimezone().strftime("%a %H:%M") if forecast["before_reset"] else "not before the reset"
            text += f"; 100% {when} at this rate (estimated)"
        cal = calibration.get(window)
        if cal:
            windows = f"{cal['windows']} window{'s' if cal['windows'] != 1 else ''}"
            text += f"; 1% ≈ {money(cal['cost_usd_per_percent'])} ({windows})"
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column()
        grid.add_row(
            Text.from_markup(f"[bold]{label} limit[/bold]"),
            ProgressBar(total=100, completed=min(used, 100), width=30, complete_style=colour),
            Text.from_markup(text),
        )
        out.append(grid)
    return out


def _today(today: dict) -> Text:
    t = today["totals"]
    cost = money(t["cost_usd"]) if t.get("cost_usd") is not None else "-"
    people = f" ({len(today['rows'])} people)" if len(today["rows"]) > 1 else ""
    return Text.from_markup(f"[bold]today[/bold] {cost}, {t.get('requests') or 0:,} requests{people}")


def _n(value) -> str:
    if value is None:
        return "-"
    value = float(value)
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}"


def _ago(now: datetime, then: datetime) -> str:
    seconds = max((now - then).total_seconds(), 0)
    if seconds < 60:
        return f"{seconds:.0f}s ago"
    return f"{duration(seconds / 60)} ago"


def limits(
    user: Annotated[
        str | None, typer.Option("--user", help="Whose limits (default: the newest snapshot's person).")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Snapshots from (default 30 days ago).")] = None,
    history: Annotated[int, typer.Option("--history", min=0, help="Snapshots to list (with --json).")] = 200,
    json_: Json = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """The official 5-hour and 7-day limits Claude Code showed its statusline, what 1 % of each costs, and when
    the window reaches 100 % at this rate (needs `cctelemetry statusline` as Claude Code's statusline)."""
    body, _ = ask(data_dir, api_url, lambda s: s.limits(since=since, history=history,
                                                        filters={"user": user} if user else None))  # fmt: skip
    if json_:
        sys.stdout.write(json.dumps(body, indent=2, default=str) + "\n")
        return
    lines = _limits(body, datetime.now(UTC))
    if not lines:
        console.print(
            "[dim]no official limits recorded yet: make `cctelemetry statusline` Claude Code's statusline "
            "(./setup-telemetry.sh --statusline); they come with Claude.ai plans, Claude Code 2.1.80+[/dim]"
        )
        return
    for line in lines:
        console.print(line)


def statusline(
    api_url: Annotated[str | None, typer.Option("--api-url", help="The service to ask.")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Do not ask the service: the input alone.")] = False,
    then: Annotated[
        str | None, typer.Option("--then", help="Another statusline command to run on the same input.")
    ] = None,
    json_: Json = False,
) -> None:
    """Claude Code's statusline command: its statusline JSON on stdin, one line out (see setup-telemetry.sh
    --statusline). Runs without loading this CLI."""
    from ..statusline.command import main

    args = (
        (["--api-url", api_url] if api_url else [])
        + (["--offline"] if offline else [])
        + (["--then", then] if then else [])
        + (["--json"] if json_ else [])
    )
    raise typer.Exit(main(args))


def register(app: typer.Typer) -> None:
    app.command()(monitor)
    app.command()(limits)
    app.command()(statusline)

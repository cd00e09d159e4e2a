"""``cctelemetry blocks``: 5-hour blocks per person (reports/blocks.py). Register with ``register(app)``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from .options import ApiUrl, Csv, DataDir, Json, Mode, Since, Tz, Until, Where, Wide, ask, filters
from .render import console, emit, money


def blocks(
    active: Annotated[bool, typer.Option("--active", "-a", help="Only the active block, with its projection.")] = False,
    recent: Annotated[
        bool, typer.Option("--recent", "-r", help="Only the last 3 days (and the active block).")
    ] = False,
    token_limit: Annotated[
        str | None,
        typer.Option(
            "--token-limit",
            "-t",
            help="Tokens per block to measure against: a number, or max (the most tokens of a completed block listed).",
        ),
    ] = None,  # fmt: skip
    user: Annotated[
        str | None, typer.Option("--user", help="Only this person's blocks (user.email, else user.id).")
    ] = None,
    mode: Mode = None,
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    where: Where = None,
    json_: Json = False,
    csv_: Csv = False,
    wide: Wide = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """5-hour blocks, as ccusage counts them, per person: usage, cost, burn rate, and the active block's projection."""
    scope = filters(where) | ({"user": user} if user is not None else {})
    body, _ = ask(
        data_dir,
        api_url,
        lambda s: s.blocks(
            active=active,
            recent=recent,
            token_limit=token_limit,
            since=since,
            until=until,
            tz=tz,
            mode=mode,
            filters=scope,
        ),
    )
    if json_ or csv_:
        emit(body, rows_key="blocks", as_json=json_, as_csv=csv_)
        return
    rows = body["blocks"]
    if not rows:
        console.print("[dim]no active block[/dim]" if active else "[dim]no blocks[/dim]")
        return
    zone = ZoneInfo(body["tz"])
    several = len({r["user"] for r in rows}) > 1
    emit({"rows": [_table_row(r, zone, several, body["token_limit"] is not None) for r in rows]},
         title=f"5-hour blocks (mode {body['mode']}, times in {body['tz']})", wide=wide)  # fmt: skip
    for r in rows:
        if r["is_active"]:
            _print_active(r)


def _table_row(r: dict, zone: ZoneInfo, several: bool, limited: bool) -> dict:
    row = {"user": r["user"] or "-"} if several else {}
    row["start"] = local(r["start"], zone)
    if r["is_gap"]:
        minutes = (parse(r["end"]) - parse(r["start"])).total_seconds() / 60
        row["status"] = f"gap {duration(minutes)}"
    elif r["is_active"]:
        row["status"] = f"ACTIVE, {duration(r['minutes_remaining'] or 0)} left"
    else:
        row["status"] = duration((parse(r["actual_end"]) - parse(r["start"])).total_seconds() / 60)
    row["models"] = r["models"]
    row["requests"] = r["requests"]
    row["total_tokens"] = r["total_tokens"]
    if limited:
        row["percent_of_limit"] = (
            round(r["percent_of_token_limit"], 1) if r["percent_of_token_limit"] is not None else None
        )
    row["cost_usd"] = None if r["is_gap"] else r["cost_usd"]
    return row


def _print_active(r: dict) -> None:
    rate, projection = r["burn_rate"], r["projection"]
    who = f" of {escape(r['user'])}" if r["user"] else ""
    line = f"[bold green]active block{who}[/bold green]: {money(r['cost_usd'] or 0)} so far"
    if rate:
        per_hour = money(rate["cost_usd_per_hour"]) if rate["cost_usd_per_hour"] is not None else "-"
        line += f", burning {rate['tokens_per_minute']:,.0f} tokens/min, {per_hour}/h"
    if projection:
        cost = money(projection["cost_usd"]) if projection["cost_usd"] is not None else "-"
        line += f"; at this rate {projection['total_tokens']:,} tokens and {cost} by the end " \
                f"({duration(projection['remaining_minutes'])} left)"  # fmt: skip
    status = r.get("token_limit_status")
    if status:
        colour = {"ok": "green", "warning": "yellow", "exceeds": "red"}[status["status"]]
        line += (
            f"; [{colour}]{status['percent_used']:.1f}% of {status['limit']:,} tokens ({status['status']})[/{colour}]"
        )
    console.print(line)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local(value: str, zone: ZoneInfo) -> str:
    return parse(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def duration(minutes: float) -> str:
    minutes = int(minutes)
    if minutes >= 48 * 60:
        return f"{minutes // 1440}d {minutes % 1440 // 60}h"
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def register(app: typer.Typer) -> None:
    app.command()(blocks)

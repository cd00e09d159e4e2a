"""``cctelemetry cost`` and ``cctelemetry prices``. Register with ``register(app)`` (main.py)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from .current import Project, current_scope, describe_current
from .options import ApiUrl, Csv, DataDir, Json, Mode, Since, Tz, Until, Where, Wide, ask, filters
from .render import console, emit, money

_COST_COLUMNS = ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                 "cache_write_1h_tokens", "reported_cost_usd", "computed_cost_usd", "cost_usd")  # fmt: skip
_BREAKDOWN = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "web_search")
_RECONCILE_REQUEST = ("timestamp", "session", "model", "reported_cost_usd", "computed_cost_usd", "difference_usd",
                      "reason", "recovered_cache_write_1h_tokens")  # fmt: skip
_PRICE_COLUMNS = ("model", "effective_from", "input", "output", "cache_read", "cache_write_5m", "cache_write_1h",
                  "long_context_threshold", "origin", "overridden")  # fmt: skip


def cost(
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="Dimensions, e.g. model or project,agent (with --reconcile: request, session or model)."
        ),
    ] = None,  # fmt: skip
    period: Annotated[str | None, typer.Option("--period", help="Also group by day, week or month.")] = None,
    mode: Mode = None,
    reconcile: Annotated[
        bool, typer.Option("--reconcile", help="Where computed and reported cost differ, and why.")
    ] = False,  # fmt: skip
    tolerance: Annotated[
        float | None, typer.Option("--tolerance", help="With --reconcile: USD per request.")
    ] = None,  # fmt: skip
    breakdown: Annotated[bool, typer.Option("--breakdown", help="Show the cost per token type.")] = False,
    session: Annotated[
        str | None,
        typer.Option(
            "--session", help="Only this session; current: the session with the latest request (see --project)."
        ),
    ] = None,  # fmt: skip
    project: Project = None,
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
    """What the requests cost: by any dimensions and period, or reconciled against the agents' own cost."""
    where_ = filters(where)
    scope = {"since": since, "until": until, "tz": tz, "filters": where_}
    if session == "current":
        found, _ = ask(data_dir, api_url, lambda s: s.current_session(**current_scope(project, None)))
        session = found["current"]["session"]
        if not (json_ or csv_):
            console.print(f"[dim]{escape(describe_current(found['current']))}[/dim]")
    if session:
        where_["session"] = session
    if reconcile:
        level = by or "request"
        body, _ = ask(data_dir, api_url, lambda s: s.reconcile(group_by=level, tolerance=tolerance, **scope))
        if json_ or csv_:
            emit(body, as_json=json_, as_csv=csv_)
            return
        _print_reconcile(body, wide)
        return
    by = by if by is not None else ("" if period else "model")
    body, _ = ask(data_dir, api_url, lambda s: s.cost(group_by=by, period=period, mode=mode, **scope))
    if json_ or csv_:
        emit(body, as_json=json_, as_csv=csv_)
        return
    keep = list(body["group_by"]) + list(_COST_COLUMNS)
    totals, rows = _columns(body["totals"], keep, breakdown), [_columns(r, keep, breakdown) for r in body["rows"]]
    rows = rows or [totals]
    emit({"rows": rows}, title=f"cost by {', '.join(body['group_by']) or 'total'} (mode {body['mode']})",
         totals=totals if body["rows"] else None, wide=wide)  # fmt: skip
    unknown = body["totals"].get("unknown_models") or []
    if unknown:
        console.print(f"[yellow]not in the price book (no computed cost):[/yellow] {escape(', '.join(unknown))}")


def _columns(row: dict, keep: list[str], breakdown: bool) -> dict:
    out = {k: row.get(k) for k in keep if k in row}
    if breakdown:
        out.update({f"{t}_cost_usd": row["cost_by_type"][t] for t in _BREAKDOWN})
    return out


def _print_reconcile(body: dict, wide: bool) -> None:
    s = body["summary"]
    computed, reported = s["computed_cost_usd"] or 0, s["reported_cost_usd"] or 0
    console.print(
        f"{s['requests']:,} requests, {s['matching_requests']:,} match within "
        f"{money(body['tolerance_usd'])}; computed {money(computed)} vs reported {money(reported)}"
    )
    for reason, n in s["by_reason"].items():
        if reason != "matching":
            console.print(f"  {n:>6,}  {reason}: {body['reasons'].get(reason, '')}")
    rows = body["rows"]
    if body["level"] == "request":
        rows = [{k: r.get(k) for k in _RECONCILE_REQUEST} for r in rows]
    emit({"rows": rows}, title=f"differences by {body['level']}", wide=wide)


def prices(
    model: Annotated[str | None, typer.Option("--model", help="How this model id resolves, and its prices.")] = None,
    day: Annotated[str | None, typer.Option("--day", help="With --model: the price in force that day.")] = None,
    json_: Json = False,
    csv_: Csv = False,
    wide: Wide = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """The effective price list (USD per million tokens); overrides from your prices file are marked."""
    body, _ = ask(data_dir, api_url, lambda s: s.prices(model=model, day=day))
    if json_ or csv_:
        emit(body, as_json=json_, as_csv=csv_)
        return
    if model:
        r = body["resolved"]
        if not r["priced_model"]:
            console.print(
                f"[yellow]{escape(repr(model))} is not in the price book[/yellow] "
                f"(files: {escape(', '.join(body['files']))})"
            )
            raise typer.Exit(1)
        marked = " [bold](overridden)[/bold]" if r["overridden"] else ""
        console.print(f"{escape(model)} → {r['priced_model']}{marked}")
    emit({"rows": [{k: r[k] for k in _PRICE_COLUMNS} for r in body["rows"]]}, title="prices, USD per million tokens",
         wide=wide)  # fmt: skip
    console.print(f"[dim]from {escape(', '.join(body['files']))}[/dim]")


def register(app: typer.Typer) -> None:
    app.command()(cost)
    app.command()(prices)

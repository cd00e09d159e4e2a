"""``cctelemetry tools``, ``errors``, ``activity`` and ``timeline``. Register with ``register(app)`` (main.py)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from .options import ApiUrl, Csv, DataDir, Json, Since, Tz, Until, Where, Wide, ask, filters
from .render import console, emit, money

_TOOL_COLUMNS = ("tool", "calls", "success_rate", "p50_duration_ms", "p95_duration_ms", "accepted", "rejected",
                 "input_bytes", "result_bytes")  # fmt: skip


def tools(since: Since = None, until: Until = None, tz: Tz = None, where: Where = None, json_: Json = False,
          csv_: Csv = False, wide: Wide = False, data_dir: DataDir = None, api_url: ApiUrl = None) -> None:  # fmt: skip
    """Per tool: calls, success rate, p50/p95 duration, accepted/rejected decisions, input and result bytes."""
    body, _ = ask(data_dir, api_url, lambda s: s.tools(since=since, until=until, tz=tz, filters=filters(where)))
    if json_ or csv_:
        emit(body, as_json=json_, as_csv=csv_)
        return
    rows = [{k: r.get(k) for k in _TOOL_COLUMNS} for r in body["rows"]]
    emit({"rows": rows}, title="tools", totals={k: body["totals"].get(k) for k in _TOOL_COLUMNS[1:]}, wide=wide)
    for r in body["rows"]:
        by_source = "; ".join(f"{src}: " + ", ".join(f"{d} {n}" for d, n in sorted(ds.items()))
                              for src, ds in sorted(r["decisions_by_source"].items()))  # fmt: skip
        if by_source:
            console.print(f"  {escape(r['tool'])} decisions by source: {escape(by_source)}")


def errors(
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
    """API errors by status, model and attempt; requests that failed after every retry, and their cost."""
    body, _ = ask(data_dir, api_url, lambda s: s.errors(since=since, until=until, tz=tz, filters=filters(where)))
    if json_ or csv_:
        emit(body, as_json=json_, as_csv=csv_)
        return
    emit(body, title="API errors by status, model and attempt", totals=body["totals"] if body["rows"] else None,
         wide=wide)  # fmt: skip
    ex = body["retries_exhausted"]
    cost = money(ex["prompts_cost_usd"]) if ex["prompts_cost_usd"] is not None else "-"
    console.print(f"retries exhausted: {ex['count']:,} ({ex['attempts']:,} attempts); the prompts they ended cost "
                  f"{cost} over {ex['prompts_requests']:,} requests")  # fmt: skip
    if ex["rows"]:
        emit({"rows": ex["rows"]}, title="retries exhausted by status and model", wide=wide)


def activity(
    by: Annotated[
        str,
        typer.Option("--by", help="day, hour, week, month, session, user, service, agent_product; '' for totals only."),
    ] = "day",
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
    """Lines added and removed, commits, pull requests, edit decisions and active time."""
    body, _ = ask(data_dir, api_url, lambda s: s.activity(group_by=by, since=since, until=until, tz=tz,
                                                          filters=filters(where)))  # fmt: skip
    if json_ or csv_:
        emit(body, as_json=json_, as_csv=csv_)
        return
    emit({"rows": body["rows"] or [body["totals"]]}, title=f"activity by {by or 'total'}",
         totals=body["totals"] if body["rows"] else None, wide=wide)  # fmt: skip
    if body["edit_decisions"]:
        emit({"rows": body["edit_decisions"]}, title="edit decisions by language", wide=wide)


def timeline(session_id: Annotated[str, typer.Argument(help="Session id.")], json_: Json = False,
             data_dir: DataDir = None, api_url: ApiUrl = None) -> None:  # fmt: skip
    """A session's interactions, model requests and the tools they called, with durations."""
    body, _ = ask(data_dir, api_url, lambda s: s.timeline(session_id))
    if json_:
        emit(body, as_json=True)
        return
    console.print(f"[bold]{escape(session_id)}[/bold]  from {body['source']}")
    for i, interaction in enumerate(body["interactions"], 1):
        console.print(f"interaction {i}  {interaction['start']}  {interaction['duration_ms']:,.0f} ms")
        _print_children(interaction, 1)


def _print_children(node: dict, depth: int) -> None:
    pad = "  " * depth
    for r in node.get("requests", []):
        cost = money(r["cost_usd"]) if r.get("cost_usd") is not None else "-"
        state = (
            "" if r.get("success") is not False else f"  [red]failed {escape(str(r.get('status_code') or ''))}[/red]"
        )
        console.print(
            f"{pad}request {escape(r['model'])}  {r['duration_ms']:,.0f} ms  "
            f"in {r.get('input_tokens') or 0:,} out {r.get('output_tokens') or 0:,}  {cost}{state}"
        )
        for t in r.get("tools", []):
            _print_tool(t, depth + 1)
    for t in node.get("tools", []):
        _print_tool(t, depth)


def _print_tool(tool: dict, depth: int) -> None:
    pad = "  " * depth
    outcome = {True: "ok", False: "[red]failed[/red]", None: escape(tool.get("decision") or "")}[tool.get("success")]
    console.print(f"{pad}tool {escape(tool['name'])}  {tool['duration_ms']:,.0f} ms  {outcome}")
    _print_children(tool, depth + 1)


def register(app: typer.Typer) -> None:
    for command in (tools, errors, activity, timeline):
        app.command()(command)

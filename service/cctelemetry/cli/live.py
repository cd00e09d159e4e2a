"""``cctelemetry budgets``, ``alerts``, ``insights`` and ``metrics``: what the web page and Prometheus read, in the
terminal. Register with ``register(app)`` (main.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .options import ApiUrl, DataDir, Json, Mode, Since, Tz, Until, Where, Wide, ask, filters
from .render import console, emit, money


def budgets(
    put: Annotated[
        Path | None,
        typer.Option(
            "--put", help='Replace the API\'s budgets with this JSON file ({"budgets": [...]}; - reads stdin).'
        ),
    ] = None,  # fmt: skip
    json_: Json = False,
    wide: Wide = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """Budgets with their current period's spend, projection and level (ok, warning, over)."""
    if put is not None:
        text = sys.stdin.read() if str(put) == "-" else _read(put)
        try:
            body_in = json.loads(text)
        except ValueError as exc:
            raise typer.BadParameter(f"{put} is not JSON: {exc}") from exc
        body, _ = ask(data_dir, api_url, lambda s: s.put_budgets(body_in))
    else:
        body, _ = ask(data_dir, api_url, lambda s: s.budgets())
    if json_:
        emit(body, as_json=True)
        return
    rows = [_budget_row(b) for b in body["budgets"]]
    caption = f"budgets file {body['file']}: {body['file_error']}" if body.get("file_error") else ""
    emit({"rows": rows}, title="budgets", wide=wide, caption=caption)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from exc


def _budget_row(b: dict) -> dict:
    usd = b["unit"] == "usd"
    amount = b.get("amount_usd") if usd else b.get("amount_tokens")

    def show(value):
        return "-" if value is None else (money(value) if usd else f"{int(value):,} tok")

    return {
        "name": b["name"],
        "period": b["period"],
        "amount": show(amount),
        "spent": show(b["spent"]),
        "used": f"{b['used_pct']:.0f} %",
        "projection": show(b["projection"]),
        "level": b["level"],
        "scope": ", ".join(f"{k}={v}" for k, v in b["filters"].items()) or "all",
        "source": b["source"],
    }


def alerts(
    budget: Annotated[str | None, typer.Option("--budget", help="One budget's alerts.")] = None,
    since: Since = None,
    limit: Annotated[int, typer.Option(help="Alerts to show.")] = 50,
    json_: Json = False,
    wide: Wide = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """Budget alerts fired, newest first, with their webhook delivery."""
    body, _ = ask(data_dir, api_url, lambda s: s.alerts(budget=budget, since=since, limit=limit))
    if json_:
        emit(body, as_json=True)
        return
    keep = ("fired_at", "budget", "kind", "threshold", "spent", "amount", "unit", "period_start", "delivery")
    emit({"rows": [{k: a[k] for k in keep} for a in body["alerts"]]}, title="alerts", wide=wide)


def insights(
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    mode: Mode = None,
    where: Where = None,
    compare_model: Annotated[
        str | None,
        typer.Option("--compare-model", help="Model small Opus requests are priced as (default claude-sonnet-4-6)."),
    ] = None,  # fmt: skip
    sql: Annotated[bool, typer.Option("--sql", help="Print each finding's SQL too.")] = False,
    json_: Json = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """Findings with dollar amounts: cache, cache churn, model mix, long context, failures, subagents and title
    generation, the top 1 % of sessions. Each with its numbers (--json) and SQL (--sql)."""
    body, _ = ask(
        data_dir,
        api_url,
        lambda s: s.insights(
            since=since, until=until, tz=tz, mode=mode, compare_model=compare_model, filters=filters(where)
        ),
    )
    if json_:
        emit(body, as_json=True)
        return
    for finding in body["findings"]:
        usd = "-" if finding["usd"] is None else money(finding["usd"])
        console.print(f"[bold]{finding['kind']}[/bold]  {usd}\n  {escape(finding['title'])}")
        if sql:
            console.print(escape(finding["sql"]), style="dim")
    console.print(f"[dim]{body['since']} → {body['until']}, cost mode {body['mode']}; --json for the numbers[/dim]")


def metrics(
    json_: Json = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """What GET /metrics serves Prometheus (the usage counters; a running service adds its health)."""
    text, _ = ask(data_dir, api_url, lambda s: s.metrics())
    if not json_:
        sys.stdout.write(text)
        return
    from prometheus_client.parser import text_string_to_metric_families

    families = [{"name": f.name, "type": f.type, "help": f.documentation,
                 "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
                for f in text_string_to_metric_families(text)]  # fmt: skip
    emit({"families": families}, as_json=True)


def register(app: typer.Typer) -> None:
    app.command()(budgets)
    app.command()(alerts)
    app.command()(insights)
    app.command()(metrics)

"""``cctelemetry``: run the service, migrate, and print the reports the API serves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..config import Settings
from ..errors import TelemetryError
from ..logs import setup_logging
from .render import console, emit
from .source import open_source

app = typer.Typer(
    help="Self-hosted telemetry for AI coding agents: tokens and dollars by session, model, agent and day.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Embedded data folder.")]
ApiUrl = Annotated[Optional[str], typer.Option("--api-url", help="A running service to ask (default: auto).")]
Since = Annotated[Optional[str], typer.Option("--since", help="2026-11-01, 2026-11-01T09:00, or 7d / 24h ago.")]
Until = Annotated[Optional[str], typer.Option("--until", help="End (exclusive), same forms as --since.")]
Tz = Annotated[Optional[str], typer.Option("--tz", help="IANA time zone for days and hours.")]
Json = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
Csv = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
Where = Annotated[
    Optional[list[str]], typer.Option("--where", "-w", help="Filter dim=value (repeatable), e.g. -w model=claude-opus-4-6")
]


def settings_for(data_dir: Path | None = None, **overrides) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)


def fail(exc: TelemetryError) -> None:
    console.print(f"[red][error][/red] {exc.message}")
    raise typer.Exit(1)


def _filters(where: list[str] | None) -> dict[str, str]:
    out = {}
    for item in where or []:
        if "=" not in item:
            raise typer.BadParameter(f"--where takes dim=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value
    return out


@app.command()
def serve(
    data_dir: DataDir = None,
    api_port: Annotated[Optional[int], typer.Option(help="REST API, dashboard and /docs port.")] = None,
    otlp_port: Annotated[Optional[int], typer.Option(help="OTLP/HTTP receiver port.")] = None,
    host: Annotated[Optional[str], typer.Option(help="Address to listen on.")] = None,
) -> None:
    """Run the service: OTLP receiver + REST API over the store."""
    from ..api.server import serve as run

    settings = settings_for(data_dir, api_port=api_port, otlp_port=otlp_port, host=host)
    setup_logging(settings.log_level)
    try:
        run(settings)
    except TelemetryError as exc:
        fail(exc)


@app.command()
def migrate(data_dir: DataDir = None) -> None:
    """Apply pending schema migrations (also done when the service starts)."""
    from ..store import Store
    from ..store.migrate import migrate as run

    settings = settings_for(data_dir)
    try:
        store = Store(settings.resolved_clickhouse_url(), settings.database)
        applied = run(store, settings.raw_ttl_hours, settings.retention_days)
    except TelemetryError as exc:
        fail(exc)
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "nothing to do"
    console.print(f"migrated {store.target.describe()} database {store.database}: {names}")


@app.command()
def usage(
    by: Annotated[str, typer.Option("--by", help="Dimensions, e.g. session,model or day,agent.")] = "model",
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    where: Where = None,
    json_: Json = False,
    csv_: Csv = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """Requests, tokens and cost grouped by any dimensions."""
    params = {"group_by": by, "since": since, "until": until, "tz": tz, **_filters(where)}
    body = _get("/api/v1/usage", params, data_dir, api_url)
    emit(body, as_json=json_, as_csv=csv_, title=f"usage by {by}", totals=body.get("totals"))


@app.command()
def sessions(
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    where: Where = None,
    limit: Annotated[int, typer.Option(help="Sessions to show.")] = 20,
    json_: Json = False,
    csv_: Csv = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """Sessions, newest first."""
    params = {"since": since, "until": until, "tz": tz, "limit": limit, **_filters(where)}
    body = _get("/api/v1/sessions", params, data_dir, api_url)
    if not (json_ or csv_):
        keep = ("session", "last_seen", "models", "agents", "requests", "cost_usd")
        body = {**body, "rows": [{k: r[k] for k in keep} for r in body["rows"]]}
    emit(body, as_json=json_, as_csv=csv_, title="sessions")


@app.command()
def session(
    session_id: Annotated[str, typer.Argument(help="Session id.")],
    json_: Json = False,
    csv_: Csv = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """One session: its requests in order, tool results and errors."""
    body = _get(f"/api/v1/sessions/{session_id}", {}, data_dir, api_url)
    if json_ or csv_:
        emit(body, rows_key="requests", as_json=json_, as_csv=csv_)
        return
    summary = body["session"]
    console.print(f"[bold]{session_id}[/bold]  {summary.get('first_seen', '')} → {summary.get('last_seen', '')}  "
                  f"cost ${summary.get('cost_usd') or 0:,.4f}")  # fmt: skip
    keep = ("timestamp", "model", "agent", "input_tokens", "output_tokens", "cache_read_tokens",
            "cache_creation_tokens", "cost_usd")  # fmt: skip
    emit({"rows": [{k: r[k] for k in keep} for r in body["requests"]]}, title="requests")
    keep = ("timestamp", "tool_name", "success", "duration_ms", "decision")
    emit({"rows": [{k: r[k] for k in keep} for r in body["tool_results"]]}, title="tool results")
    keep = ("timestamp", "event_name", "tool_name", "error", "status_code")
    emit({"rows": [{k: r[k] for k in keep} for r in body["errors"]]}, title="errors")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only query, e.g. \"SELECT count() FROM api_requests\".")],
    json_: Json = False,
    csv_: Csv = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """Run read-only SQL against the store."""
    try:
        body = open_source(settings_for(data_dir), api_url).post("/api/v1/sql", {"query": query})
    except TelemetryError as exc:
        fail(exc)
    emit(body, as_json=json_, as_csv=csv_)


def _get(path: str, params: dict, data_dir: Path | None, api_url: str | None) -> dict:
    try:
        return open_source(settings_for(data_dir), api_url).get(path, params)
    except TelemetryError as exc:
        fail(exc)


if __name__ == "__main__":
    app()

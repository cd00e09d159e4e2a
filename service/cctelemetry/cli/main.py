"""``cctelemetry``: run the service, migrate, and print the reports the API serves."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..errors import TelemetryError
from ..logs import setup_logging
from . import cost as cost_commands
from . import importer as import_commands
from .options import ApiUrl, Csv, DataDir, Json, Mode, Since, Tz, Until, Where, fail, filters, get, post, settings_for
from .render import console, emit

app = typer.Typer(
    help="Self-hosted telemetry for AI coding agents: tokens and dollars by session, model, agent and day.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

@app.command()
def serve(
    data_dir: DataDir = None,
    api_port: Annotated[Optional[int], typer.Option(help="REST API, dashboard and /docs port.")] = None,
    otlp_port: Annotated[Optional[int], typer.Option(help="OTLP/HTTP receiver port.")] = None,
    grpc_port: Annotated[Optional[int], typer.Option(min=0, max=65535, help="OTLP/gRPC receiver port (0 turns it off).")] = None,
    host: Annotated[Optional[str], typer.Option(help="Address to listen on.")] = None,
) -> None:
    """Run the service: OTLP receivers (HTTP and gRPC) + REST API over the store."""
    from ..api.server import serve as run

    settings = settings_for(data_dir, api_port=api_port, otlp_port=otlp_port, grpc_port=grpc_port, host=host)
    setup_logging(settings.log_level)
    try:
        run(settings)
    except TelemetryError as exc:
        fail(exc)


@app.command()
def migrate(data_dir: DataDir = None) -> None:
    """Apply pending schema migrations and sync the price book (also done when the service starts)."""
    from ..bootstrap import prepare
    from ..store import Store

    settings = settings_for(data_dir)
    try:
        store = Store(settings.resolved_clickhouse_url(), settings.database)
        applied = prepare(store, settings)
    except TelemetryError as exc:
        fail(exc)
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "nothing to do"
    console.print(f"migrated {store.target.describe()} database {store.database}: {names}")


@app.command()
def usage(
    by: Annotated[str, typer.Option("--by", help="Dimensions, e.g. session,model or day,agent.")] = "model",
    mode: Mode = None,
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
    params = {"group_by": by, "mode": mode, "since": since, "until": until, "tz": tz, **filters(where)}
    body = get("/api/v1/usage", params, data_dir, api_url)
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
    params = {"since": since, "until": until, "tz": tz, "limit": limit, **filters(where)}
    body = get("/api/v1/sessions", params, data_dir, api_url)
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
    body = get(f"/api/v1/sessions/{session_id}", {}, data_dir, api_url)
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
    body = post("/api/v1/sql", {"query": query}, data_dir, api_url)
    emit(body, as_json=json_, as_csv=csv_)


cost_commands.register(app)
import_commands.register(app)


if __name__ == "__main__":
    app()

"""``cctelemetry``: run the service, migrate, and print the reports the API serves.

Every report command asks one source (cli/source.py): the running service through the thin client, or the
store itself through the report layer. Heavy imports stay inside the commands, so a report against a
running service starts quickly.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import TelemetryError
from . import blocks as block_commands
from . import cost as cost_commands
from . import importer as import_commands
from . import live as live_commands
from . import monitor as monitor_commands
from . import run as run_commands
from . import signals as signal_commands
from .current import Agent, Project, current_scope, describe_current
from .options import ApiUrl, Csv, DataDir, Json, Mode, Since, Tz, Until, Where, Wide, ask, fail, filters, settings_for
from .render import console, emit

app = typer.Typer(
    help="Self-hosted telemetry for AI coding agents: tokens and dollars by session, model, agent and day.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command()
def serve(
    data_dir: DataDir = None,
    api_port: Annotated[int | None, typer.Option(help="REST API, dashboard and /docs port.")] = None,
    otlp_port: Annotated[int | None, typer.Option(help="OTLP/HTTP receiver port.")] = None,
    grpc_port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="OTLP/gRPC receiver port (0 turns it off).")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="Prometheus /metrics port in embedded mode, besides the API port (0 turns it off)."
        ),
    ] = None,
) -> None:
    """Run the service: OTLP receivers (HTTP and gRPC) + REST API over the store, Prometheus /metrics."""
    from ..api.server import serve as run
    from ..logs import setup_logging

    settings = settings_for(data_dir, api_port=api_port, otlp_port=otlp_port, grpc_port=grpc_port, host=host,
                            metrics_port=metrics_port)  # fmt: skip
    setup_logging(settings.log_level)
    try:
        run(settings)
    except TelemetryError as exc:
        fail(exc)


@app.command()
def migrate(
    data_dir: DataDir = None,
    print_sql: Annotated[
        bool,
        typer.Option(
            "--print-sql",
            help="Print every migration's statements as they would "
            "run (for CCTELEMETRY_CLUSTER: rendered for the cluster) and change "
            "nothing.",
        ),
    ] = False,  # fmt: skip
) -> None:
    """Apply pending schema migrations, sync the price book and the SQL views (also done when the service
    starts). Creates the store when there is none, and says so."""
    from ..bootstrap import open_store, prepare

    settings = settings_for(data_dir)
    if print_sql:
        from ..store.migrate import rendered

        ledger, files = rendered(settings.database, settings.raw_ttl_hours, settings.retention_days, settings.cluster)
        for statement in ledger:
            print(statement.strip() + ";\n")
        for migration, statements in files:  # a statement may itself start with a comment: every one ends in ;
            print(f"-- {migration.version:04d}_{migration.name}")
            for statement in statements:
                print(statement.strip() + ";\n")
        return
    try:
        store = open_store(settings, create=True)
        prepared = prepare(store, settings)
    except TelemetryError as exc:
        fail(exc)
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in prepared.applied) or "nothing to do"
    created = "created a new store, " if prepared.created else ""
    console.print(f"migrated {store.target.describe()} database {store.database}: {created}{names}")


@app.command()
def usage(
    by: Annotated[
        str, typer.Option("--by", help="Dimensions, e.g. session,model or day,agent or attr.team.")
    ] = "model",
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
    """Requests, tokens and cost grouped by any dimensions."""
    body, source = ask(data_dir, api_url, lambda s: s.usage(group_by=by, since=since, until=until, tz=tz, mode=mode,
                                                            filters=filters(where)))  # fmt: skip
    emit(body, as_json=json_, as_csv=csv_, title=f"usage by {by}", totals=body.get("totals"), wide=wide,
         caption=caption(body, source))  # fmt: skip


@app.command()
def sessions(
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    where: Where = None,
    limit: Annotated[int, typer.Option(help="Sessions to show.")] = 20,
    order: Annotated[str, typer.Option(help="last_seen (newest first) or cost.")] = "last_seen",
    json_: Json = False,
    csv_: Csv = False,
    wide: Wide = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """Sessions, newest first."""
    body, source = ask(data_dir, api_url, lambda s: s.sessions(since=since, until=until, tz=tz, limit=limit,
                                                               order=order, filters=filters(where)))  # fmt: skip
    if not (json_ or csv_):
        keep = ("session", "last_seen", "models", "agents", "requests", "cost_usd")
        body = {**body, "rows": [{k: r[k] for k in keep} for r in body["rows"]]}
    emit(body, as_json=json_, as_csv=csv_, title="sessions", wide=wide, caption=caption(body, source))


@app.command()
def session(
    session_id: Annotated[str, typer.Argument(help="Session id, or current (the session with the latest request).")],
    project: Project = None,
    agent: Agent = None,
    json_: Json = False,
    csv_: Csv = False,
    wide: Wide = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """One session: its requests in order, tool results and errors."""
    if session_id == "current":
        body, source = ask(data_dir, api_url, lambda s: s.current_session(**current_scope(project, agent)))
        session_id = body["current"]["session"]
    else:
        body, source = ask(data_dir, api_url, lambda s: s.session(session_id))
    if json_ or csv_:
        emit(body, rows_key="requests", as_json=json_, as_csv=csv_)
        return
    from .render import money

    if "current" in body:
        console.print(f"[dim]{describe_current(body['current'])}[/dim]")
    summary = body["session"]
    console.print(f"[bold]{session_id}[/bold]  {summary.get('first_seen', '')} → {summary.get('last_seen', '')}  "
                  f"cost {money(summary.get('cost_usd') or 0)}")  # fmt: skip
    keep: tuple[str, ...] = ("timestamp", "model", "agent", "input_tokens", "output_tokens", "cache_read_tokens",
            "cache_creation_tokens", "cost_usd")  # fmt: skip
    emit({"rows": [{k: r[k] for k in keep} for r in body["requests"]]}, title="requests", wide=wide)
    keep = ("timestamp", "tool_name", "success", "duration_ms", "decision")
    emit({"rows": [{k: r[k] for k in keep} for r in body["tool_results"]]}, title="tool results", wide=wide)
    keep = ("timestamp", "event_name", "tool_name", "error", "status_code")
    emit({"rows": [{k: r[k] for k in keep} for r in body["errors"]]}, title="errors", wide=wide,
         caption=caption(body, source))  # fmt: skip


@app.command()
def sql(
    query: Annotated[
        str, typer.Argument(help='A read-only query, e.g. "SELECT model, sum(cost_usd) FROM requests GROUP BY model".')
    ],  # fmt: skip
    limit: Annotated[int, typer.Option(help="Rows to return at most.")] = 10_000,
    json_: Json = False,
    csv_: Csv = False,
    wide: Wide = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """Run read-only SQL against the store (views: requests, daily_usage, session_usage)."""
    body, source = ask(data_dir, api_url, lambda s: s.sql(query, limit=limit))
    note = "rows cut at the limit (--limit, CCTELEMETRY_SQL_MAX_ROWS)" if body.get("truncated") else ""
    emit(body, as_json=json_, as_csv=csv_, wide=wide, caption="; ".join(x for x in (note, caption(body, source)) if x))


def caption(body: dict, source) -> str:
    """Under a table: which data answered (when the store was opened here), and filters that matched nothing."""
    from .source import describe

    lines = []
    for miss in body.get("no_match") or []:
        where = f" (it is a value of {', '.join(miss['found_in'])})" if miss.get("found_in") else ""
        lines.append(f"{miss['filter']}={miss['value']} matched no request{where}")
    if not describe(source).startswith("service"):
        lines.append(describe(source))
    return "\n".join(lines)


cost_commands.register(app)
block_commands.register(app)
monitor_commands.register(app)
run_commands.register(app)
import_commands.register(app)
live_commands.register(app)
signal_commands.register(app)


@app.callback()
def _group() -> None:
    """(Keeps the app a group of commands when ``main`` leaves it only one.)"""


def main(argv: list[str]) -> None:
    """Run the command line ``argv``, turning only the command it names into click's form. Typer reads the
    signature of every registered command before it runs any (~30 ms for these 22); help and unknown names get
    them all."""
    name = argv[0] if argv else ""
    asked = [c for c in app.registered_commands if _command_name(c) == name]
    if asked:
        app.registered_commands[:] = asked
    app(args=argv, prog_name="cctelemetry")


def _command_name(command: typer.models.CommandInfo) -> str:
    # as Typer names a command (typer.main.get_command_from_info)
    if command.name:
        return command.name
    return typer.main.get_command_name(command.callback.__name__) if command.callback else ""


if __name__ == "__main__":
    app()

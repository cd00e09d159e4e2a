"""What every CLI command shares: its options, dim=value filters, and where its answers come from."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from ..errors import TelemetryError
from .render import err_console

if TYPE_CHECKING:
    from ..config import Settings

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Embedded data folder.")]
ApiUrl = Annotated[str | None, typer.Option("--api-url", help="A running service to ask (default: the data "
                                            "folder's service when one runs, else the data itself).")]  # fmt: skip
Since = Annotated[str | None, typer.Option("--since", help="2026-11-01, 2026-11-01T09:00, or 7d / 24h ago.")]
Until = Annotated[str | None, typer.Option("--until", help="End (exclusive), same forms as --since.")]
Tz = Annotated[str | None, typer.Option("--tz", help="IANA time zone for days, weeks and months.")]
Json = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
Csv = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
Wide = Annotated[bool, typer.Option("--wide", help="Show every column, however wide the terminal.")]
Mode = Annotated[str | None, typer.Option("--mode", help="auto (reported, else computed), calculate, display.")]
Where = Annotated[
    list[str] | None,
    typer.Option(
        "--where", "-w", help="Filter dim=value (repeatable), e.g. -w model=claude-opus-4-6 or -w attr.team=a"
    ),
]


def settings_for(data_dir: Path | None = None, **overrides) -> Settings:
    from ..config import Settings  # not at import: a report from a running service never builds it

    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)


def fail(exc: TelemetryError) -> NoReturn:
    err_console.print(f"[red]error:[/red] {exc.message}", highlight=False, markup=True)
    raise typer.Exit(1)


def quiet_logs() -> None:
    """A report command prints its answer and nothing else: the library's logs stay out of the way
    unless something is really wrong."""
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(logging.ERROR)


def filters(where: list[str] | None) -> dict[str, str]:
    out = {}
    for item in where or []:
        if "=" not in item:
            raise typer.BadParameter(f"--where takes dim=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value
    return out


T = TypeVar("T")


def ask(data_dir: Path | None, api_url: str | None, call: Callable[[Any], T]) -> tuple[T, Any]:
    """Open the source (a running service, or the store) and run ``call`` on it; errors are one line."""
    quiet_logs()
    try:
        from .source import open_source

        source = open_source(data_dir, api_url)
        return call(source), source
    except TelemetryError as exc:
        fail(exc)
        raise  # unreachable: fail() exits

"""What every CLI command shares: its options, dim=value filters, and asking the data source."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..config import Settings
from ..errors import TelemetryError
from .render import console

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Embedded data folder.")]
ApiUrl = Annotated[Optional[str], typer.Option("--api-url", help="A running service to ask (default: auto).")]
Since = Annotated[Optional[str], typer.Option("--since", help="2026-11-01, 2026-11-01T09:00, or 7d / 24h ago.")]
Until = Annotated[Optional[str], typer.Option("--until", help="End (exclusive), same forms as --since.")]
Tz = Annotated[Optional[str], typer.Option("--tz", help="IANA time zone for days, weeks and months.")]
Json = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
Csv = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
Mode = Annotated[Optional[str], typer.Option("--mode", help="auto (reported, else computed), calculate, display.")]
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


def filters(where: list[str] | None) -> dict[str, str]:
    out = {}
    for item in where or []:
        if "=" not in item:
            raise typer.BadParameter(f"--where takes dim=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value
    return out


def get(path: str, params: dict, data_dir: Path | None, api_url: str | None) -> dict:
    try:
        from .source import open_source  # httpx: only for commands that ask for data

        return open_source(settings_for(data_dir), api_url).get(path, params)
    except TelemetryError as exc:
        fail(exc)


def post(path: str, body: dict, data_dir: Path | None, api_url: str | None) -> dict:
    try:
        from .source import open_source

        return open_source(settings_for(data_dir), api_url).post(path, body)
    except TelemetryError as exc:
        fail(exc)

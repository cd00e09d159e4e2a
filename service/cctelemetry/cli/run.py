"""``cctelemetry run [--agent-type T] [--attr k=v ...] -- claude -p "..."``: run an agent CLI with its telemetry
sent to the running service and tagged (a run id, your attributes), then print what the run cost.

The agent's stdin, stdout, stderr and exit code pass through; the summary comes after its output (or goes to
``--summary-file``, appended: a CI job's ``$GITHUB_STEP_SUMMARY``). It needs a running service (the run's
telemetry goes there); without one it says so and exits 1, and does not start one behind your back.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..client import RUN_ID_ATTRIBUTE, RUN_WAIT_S, Client
from ..errors import StoreUnavailable, TelemetryError
from .options import ApiUrl, DataDir, Json, fail, settings_for
from .render import money

MEASURES = ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")


def run(
    command: Annotated[list[str], typer.Argument(help='The agent command, after --: -- claude -p "..."')],
    agent_type: Annotated[
        str | None, typer.Option("--agent-type", help="Resource attribute agent.type (the agent_type dimension).")
    ] = None,  # fmt: skip
    attr: Annotated[
        list[str] | None,
        typer.Option("--attr", help="Resource attribute k=v (repeatable): filter and group on it as attr.<k>."),
    ] = None,  # fmt: skip
    wait: Annotated[
        float,
        typer.Option("--wait", min=0, help="After the agent exits, the longest wait for its telemetry (seconds)."),
    ] = RUN_WAIT_S,  # fmt: skip
    json_: Json = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="The summary as a Markdown table.")] = False,
    summary_file: Annotated[
        Path | None,
        typer.Option(
            "--summary-file", help="Append the summary to this file instead of printing it (e.g. $GITHUB_STEP_SUMMARY)."
        ),
    ] = None,  # fmt: skip
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """Run an agent CLI with telemetry to this service and print the run's requests, tokens and cost."""
    attributes = {}
    for item in attr or []:
        if "=" not in item or not item.split("=", 1)[0]:
            raise typer.BadParameter(f"--attr takes k=v, got {item!r}")
        key, value = item.split("=", 1)
        attributes[key] = value
    client = _service(data_dir, api_url)
    try:
        result = client.run(command, attributes=attributes, agent_type=agent_type, wait=wait)
    except FileNotFoundError:
        fail(TelemetryError(f"no such command: {command[0]}"))
    except TelemetryError as exc:
        fail(exc)
    text = (
        json.dumps(result, indent=2) + "\n" if json_ else markdown_summary(result) if markdown else text_summary(result)
    )
    if summary_file is not None:
        with open(summary_file, "a", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    raise typer.Exit(result["exit_code"])


def _service(data_dir, api_url) -> Client:
    from .options import quiet_logs
    from .source import find_service

    quiet_logs()
    settings = settings_for(data_dir)
    try:
        client = find_service(settings, api_url, data_dir_given=data_dir is not None)
    except TelemetryError as exc:
        fail(exc)
    if client is None:
        fail(StoreUnavailable("no cctelemetry service is running: a run's telemetry goes to the service (start one "
                              "with `cctelemetry serve` or ./install-telemetry.sh, or give --api-url)"))  # fmt: skip
    return client


def text_summary(r: dict) -> str:
    cost = money(r["cost_usd"]) if r["cost_usd"] is not None else "unknown (model not in the price book)"
    sessions = ", ".join(r["session_ids"]) or "none"
    lines = [
        f"cctelemetry run {r['run_id']}: {r['requests']} request(s), {cost}",
        f"  tokens: {r['input_tokens']:,} input, {r['output_tokens']:,} output, {r['cache_read_tokens']:,} cache read, "
        f"{r['cache_creation_tokens']:,} cache write",
        f"  sessions: {sessions}; models: {', '.join(r['models']) or 'none'}",
        f"  filter: attr.{RUN_ID_ATTRIBUTE}={r['run_id']}",
    ]
    if not r["complete"]:
        lines.append(f"  (waited {r['waited_seconds']:.0f} s for the agent's telemetry; some may not have arrived: "
                     "is telemetry sent? see `cctelemetry usage`)")  # fmt: skip
    return "\n".join(lines) + "\n"


def markdown_summary(r: dict) -> str:
    head = (
        "| model | requests | input | output | cache read | cache write | cost (USD) |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = "".join(_md_row(m["model"], m) for m in r["by_model"])
    total = _md_row("**total**", r)
    command = " ".join(r["command"])[:120].replace("`", "'")
    note = "" if r["complete"] else "\n_Some of the run's telemetry may not have arrived._\n"
    return (f"### cctelemetry run `{command}`\n\n{head}{rows}{total}\n"
            f"Sessions: {', '.join(f'`{s}`' for s in r['session_ids']) or 'none'}; exit code {r['exit_code']}; "
            f"run id `{r['run_id']}`.\n{note}\n")  # fmt: skip


def _md_row(name: str, r: dict) -> str:
    cost = f"{r['cost_usd']:.6f}" if r.get("cost_usd") is not None else "unknown"
    return f"| {name} | " + " | ".join(f"{r[k]:,}" for k in MEASURES) + f" | {cost} |\n"


def register(app: typer.Typer) -> None:
    app.command(context_settings={"allow_interspersed_args": False})(run)

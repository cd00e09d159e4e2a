"""``cctelemetry import``: Claude Code transcripts, Codex rollouts and Gemini chats -> the store (backfill).
Register with ``register(app)``.

With a running service (it holds the embedded data folder) the import goes through its API,
``POST /api/v1/import``, with the paths made absolute here (the service reads them on this machine).
Otherwise this process opens the store and imports with a progress bar.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from .options import ApiUrl, DataDir

if TYPE_CHECKING:  # imported where a bar is shown: Rich's progress module is not loaded otherwise
    from rich.progress import Progress, TaskID

# Piped output is not cut to 80 columns (as cli/render.py does).
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)


def import_(
    paths: list[Path] = typer.Argument(
        None,
        help="Folders (searched recursively) or .jsonl files. Default: every agent's folders that exist "
        "($CLAUDE_CONFIG_DIR/projects, ~/.config/claude/projects, ~/.claude/projects; $CODEX_HOME/sessions; "
        "~/.gemini/tmp), or --agent's.",
    ),
    agent: str = typer.Option(
        None, "--agent", help="claude, codex or gemini: whose files these are (default: detected from each path)."
    ),
    watch: bool = typer.Option(False, "--watch", help="Keep importing what is new, every --interval seconds."),
    interval: float = typer.Option(5.0, "--interval", help="Seconds between imports with --watch.", min=0.1),
    json_: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    to: str = typer.Option(
        None,
        "--to",
        help="Push the files' new bytes to a hub (a cctelemetry service other "
        "machines report to, e.g. http://hub:8000), which imports them; resumable, only what is "
        "new is sent.",
    ),  # fmt: skip
    token: str = typer.Option(None, "--token", envvar="CCTELEMETRY_API_TOKEN", help="With --to: the hub's API token."),
    host_name: str = typer.Option(
        None,
        "--host-name",
        help="With --to: this machine's name in the hub's host "
        "dimension (default CCTELEMETRY_HOST_NAME, else the system's host name).",
    ),  # fmt: skip
    full: bool = typer.Option(
        False, "--full", help="With --to: send every file whole again (the hub counts nothing twice)."
    ),  # fmt: skip
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
) -> None:
    """Import Claude Code, Codex and Gemini session files (backfill): only new lines, every request once,
    alongside telemetry. With --to, push them to a hub instead."""
    from ..config import Settings
    from ..errors import TelemetryError
    from .options import fail, quiet_logs
    from .source import find_service, settings_token

    quiet_logs()
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    try:
        roots = _roots(paths, agent)
        if to:
            _to_hub(settings, to, token or settings_token(settings), host_name, roots, agent, full, watch, interval,
                    json_)  # fmt: skip
            return
        service = find_service(settings, api_url, data_dir_given=data_dir is not None)
        if service is not None:
            _through_api(service, roots, watch, interval, json_, agent)
        else:
            _local(settings, roots, watch, interval, json_, agent)
    except TelemetryError as exc:
        fail(exc)


def register(app: typer.Typer) -> None:
    app.command("import")(import_)


def _roots(paths: list[Path] | None, agent: str | None = None) -> list[str]:
    """Absolute paths; the defaults are resolved here too, so a service on this machine reads the same ones."""
    from ..ingest.transcripts.agents import default_roots, get_agent

    named = get_agent(agent)  # an unknown name is an error before anything is read
    if paths:
        return [str(p.expanduser().absolute()) for p in paths]
    return [str(p) for p in default_roots(named) if p.exists()]


# -- in this process -------------------------------------------------------------------------------


def _local(settings, roots: list[str], watch: bool, interval: float, as_json: bool, agent: str | None) -> None:
    paths = [Path(p) for p in roots]
    if roots and not watch and (unchanged := _nothing_new(settings, paths, agent)) is not None:
        _print(unchanged.to_dict(), as_json)
        return

    from ..bootstrap import open_store
    from ..ingest.transcripts import import_transcripts, watch_transcripts
    from ..store.migrate import migrate

    store = open_store(settings, create=True)
    migrate(store, settings.raw_ttl_hours, settings.retention_days)
    if not roots:
        _print({"files": 0, "note": "no transcript folder found"}, as_json)
        return
    if not watch:
        with _progress(enabled=not as_json) as progress:
            summary = import_transcripts(store, paths, progress, agent=agent)
        _print(summary.to_dict(), as_json)
        return
    stop = threading.Event()

    def report(summary) -> None:
        if summary.files_read or summary.skipped_files:
            _print(summary.to_dict(), as_json, brief=True)

    thread = threading.Thread(
        target=watch_transcripts,
        args=(store, paths, interval, stop),
        kwargs={"on_import": report, "agent": agent},
        daemon=True,
    )
    thread.start()
    err_console.print(f"watching {', '.join(roots)} every {interval:g}s (Ctrl-C to stop)")
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        thread.join(30)


def _nothing_new(settings, paths: list[Path], agent: str | None = None):
    """The summary of an import that would find nothing new, told by the stat cache next to the embedded
    data without opening the engine (ingest/transcripts/statcache.py); None when there is work to do."""
    import time

    from ..ingest.transcripts import statcache
    from ..store.clickhouse import Target

    target = Target.parse(settings.resolved_clickhouse_url())
    if target.kind != "chdb":
        return None
    t0 = time.perf_counter()
    summary = statcache.unchanged_summary(statcache.location(target.path, settings.database), paths, agent)
    if summary is not None:
        summary.seconds = time.perf_counter() - t0
    return summary


class _progress:
    """A Rich progress bar over bytes, fed by the importer's per-file callback."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and err_console.is_terminal
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = bar = Progress(
            TextColumn("importing"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[files]}"),
            TimeRemainingColumn(), console=err_console, transient=True,
        )  # fmt: skip
        bar.__enter__()
        self.task = bar.add_task("import", total=None, files="")
        return self.update

    def update(self, p) -> None:
        assert self.bar is not None and self.task is not None  # given out by __enter__ once both are set
        self.bar.update(self.task, total=max(p.bytes_total, 1), completed=p.bytes_done,
                        files=f"{p.files_done}/{p.files_total} files")  # fmt: skip

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)


# -- through the service ---------------------------------------------------------------------------


def _through_api(api, roots: list[str], watch: bool, interval: float, as_json: bool, agent: str | None) -> None:
    import time

    if not watch:
        _print(api.import_(roots, agent=agent), as_json)
        return
    err_console.print(f"watching {', '.join(roots)} every {interval:g}s through {api.url} (Ctrl-C to stop)")
    try:
        while True:
            body = api.import_(roots, agent=agent)
            if body.get("files_read") or body.get("skipped_files"):
                _print(body, as_json, brief=True)
            time.sleep(interval)
    except KeyboardInterrupt:
        pass


# -- to a hub ---------------------------------------------------------------------------------------


def _to_hub(settings, url: str, token: str | None, host_name: str | None, roots: list[str], agent: str | None,
            full: bool, watch: bool, interval: float, as_json: bool) -> None:  # fmt: skip
    import time

    from ..client import Client
    from ..push import push

    hub = Client(url, token=token, timeout=600)
    folder = settings.data_dir.expanduser() / "pushes"
    host = host_name or settings.host_name
    paths = [Path(p) for p in roots]
    if not paths:
        _print({"files": 0, "note": "no session folder found"}, as_json)
        return
    if not watch:
        with _progress(enabled=not as_json) as progress:
            result = push(hub, paths, folder, agent=agent, host=host, full=full,
                          progress=_bytes_progress(progress))  # fmt: skip
        _print(result.to_dict(), as_json)
        return
    err_console.print(f"pushing {', '.join(roots)} to {hub.url} every {interval:g}s (Ctrl-C to stop)")
    try:
        while True:
            body = push(hub, paths, folder, agent=agent, host=host).to_dict()
            if body.get("files_sent") or body.get("skipped_files"):
                _print(body, as_json, brief=True)
            time.sleep(interval)
    except KeyboardInterrupt:
        pass


def _bytes_progress(update):
    """The push's (bytes sent, bytes to send) onto the import's progress bar."""
    if update is None:
        return None
    from ..ingest.transcripts import FileProgress

    return lambda done, total: update(FileProgress(Path("."), "read", 0, 0, 0, done, total))


# -- output ----------------------------------------------------------------------------------------

_ROWS = [
    ("files", "transcript files"),
    ("files_read", "  read now"),
    ("files_unchanged", "  unchanged since the last import"),
    ("files_reread", "  read again from the start"),
    ("lines", "lines read"),
    ("request_lines", "  request lines"),
    ("duplicate_lines", "  of which copies (split blocks, re-logged)"),
    ("requests", "requests"),
    ("new_requests", "  new"),
    ("known_requests", "  already known (earlier import or telemetry)"),
    ("updated_requests", "  known, fuller copy now"),
    ("rows_written", "rows written"),
    ("files_sent", "files sent to the hub"),
    ("bytes_sent", "bytes sent"),
    ("bytes_on_wire", "  gzip'd, on the wire"),
    ("uploads", "uploads"),
    ("bytes_read", "bytes read"),
    ("seconds", "seconds"),
]


def _print(body: dict, as_json: bool, brief: bool = False) -> None:
    if as_json:
        sys.stdout.write(json.dumps(body, default=str) + "\n")
        sys.stdout.flush()
        return
    if brief:
        console.print(
            f"{body.get('files_read', 0)} file(s), {body.get('lines', 0):,} lines, {body.get('new_requests', 0):,} new "
            f"request(s), {body.get('known_requests', 0):,} known, in {body.get('seconds', 0):.2f}s" + _skips(body)
        )
        return
    title = f"push to {body['hub']} as host {body['host']}" if "hub" in body else "transcript import"
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, label in _ROWS:
        if key in body:
            value = body[key]
            table.add_row(label, f"{value:,.3f}" if isinstance(value, float) else f"{value:,}")
    for group, title in (("skipped_lines", "skipped lines"), ("skipped_files", "skipped files")):
        for reason, n in sorted((body.get(group) or {}).items()):
            table.add_row(f"{title}: {reason.replace('_', ' ')}", f"{n:,}")
    console.print(table)
    for error in body.get("errors") or []:
        err_console.print(f"[yellow]{error}[/yellow]")


def _skips(body: dict) -> str:
    parts = [f"{n} {reason.replace('_', ' ')}" for group in ("skipped_lines", "skipped_files")
             for reason, n in sorted((body.get(group) or {}).items())]  # fmt: skip
    return f"; skipped: {', '.join(parts)}" if parts else ""

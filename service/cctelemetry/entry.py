"""The ``cctelemetry`` console script. ``cctelemetry statusline`` runs on every statusline update of Claude
Code, so it goes straight to its standard-library module (statusline/command.py) without loading the CLI
(Typer, Rich, pydantic: some 200 ms); every other command goes to the CLI (cli/main.py)."""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "statusline":
        from .statusline.command import main as statusline

        sys.exit(statusline(sys.argv[2:]))
    from .cli.main import main as cli

    cli(sys.argv[1:])

"""Where a running service says it is: ``service.json`` in its data folder (pid, API URL, ports), written
by ``cctelemetry serve`` when it starts listening and removed when it stops. The CLI finds the service
of its data folder from it, and ``install-telemetry.sh --uninstall`` finds what to stop."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

FILE = "service.json"


def path_for(data_dir: Path) -> Path:
    return data_dir.expanduser() / FILE


def write(data_dir: Path, info: dict[str, Any]) -> Path:
    path = path_for(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "started_at": time.time(), **info}, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def remove(data_dir: Path) -> None:
    path = path_for(data_dir)
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def read(data_dir: Path) -> dict[str, Any] | None:
    """The running service of ``data_dir``, or None when none is recorded or its process is gone."""
    try:
        info = json.loads(path_for(data_dir).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not pid_alive(info.get("pid")):
        return None
    return info


def pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

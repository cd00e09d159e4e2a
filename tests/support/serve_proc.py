"""A real ``cctelemetry serve`` process for tests: a data folder, free 127.0.0.1 ports (OTLP/gRPC off unless
asked for), a bounded wait until ``/healthz`` answers, and the ways it can end (SIGTERM, SIGKILL).

    with ServeProcess(tmp_path / "data") as svc:
        httpx.post(svc.otlp_url + "/v1/logs", ...)
        svc.kill9()           # no shutdown at all: what a power cut or the OOM killer does to the process
        svc.start()           # the same data folder, new ports
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CLI = str(Path(sys.executable).with_name("cctelemetry"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """No CCTELEMETRY_ setting of the test run leaks in; the user's folders are under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"), **extra)
    return env


class ServeProcess:
    def __init__(self, data_dir: Path, *, env: dict[str, str] | None = None, grpc: bool = False,
                 startup_s: float = 90.0):  # fmt: skip
        self.data_dir = Path(data_dir)
        self.env = env if env is not None else clean_env(self.data_dir.parent / "home")
        self.grpc = grpc
        self.startup_s = startup_s
        self.proc: subprocess.Popen | None = None
        self.api_port = self.otlp_port = self.grpc_port = 0
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-serve.log"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def otlp_url(self) -> str:
        return f"http://127.0.0.1:{self.otlp_port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> "ServeProcess":
        self.api_port, self.otlp_port = free_port(), free_port()
        self.grpc_port = free_port() if self.grpc else 0
        cmd = [CLI, "serve", "--data-dir", str(self.data_dir), "--api-port", str(self.api_port),
               "--otlp-port", str(self.otlp_port), "--grpc-port", str(self.grpc_port), "--metrics-port", "0"]  # fmt: skip
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env)
        log.close()
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cctelemetry serve exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.api_url + "/healthz", timeout=2) as r:
                    if json.load(r).get("ok"):
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.kill9()
        raise RuntimeError(f"cctelemetry serve did not answer /healthz within {self.startup_s:.0f} s:\n{self.log()}")

    def kill9(self) -> None:
        """SIGKILL: the process gets no chance to flush, close or remove anything."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.proc = None

    def rss_kib(self) -> int:
        """The process's resident set (VmRSS), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def __enter__(self) -> "ServeProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

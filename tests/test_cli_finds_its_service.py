"""The CLI finds its service, or says clearly what it did (real processes: ``cctelemetry serve`` and the CLI).

- A service started on non-default ports and a data folder is found from the folder (``service.json``).
- A service that runs but does not answer, an unreachable ``--api-url`` or ``CCTELEMETRY_API_URL``: one line,
  exit 1, no traceback, and no store created anywhere.
- A mistyped ``--data-dir``: an error, never a new empty store.
- A local command that succeeds prints nothing on stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import FIXTURES, free_port

CLI = str(Path(sys.executable).with_name("cctelemetry"))


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    """No CCTELEMETRY_ settings from the test run, and the user's folders inside ``tmp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    env.update(XDG_DATA_HOME=str(tmp / "xdg-data"), XDG_STATE_HOME=str(tmp / "xdg-state"), HOME=str(tmp / "home"),
               COLUMNS="100", **extra)  # fmt: skip
    return env


def cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL)  # fmt: skip


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli-service")
    data = tmp / "data"
    api_port, otlp_port = free_port(), free_port()
    env = clean_env(tmp)
    with open(tmp / "service.log", "wb") as log:  # the child keeps its own copy of the file
        proc = subprocess.Popen([CLI, "serve", "--data-dir", str(data), "--api-port", str(api_port), "--otlp-port",
                                 str(otlp_port), "--grpc-port", "0", "--metrics-port", "0"],
                                stdout=log, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    url = f"http://127.0.0.1:{api_port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if json.load(urllib.request.urlopen(url + "/healthz", timeout=2))["ok"]:
                break
        except OSError:
            time.sleep(0.2)
    assert proc.poll() is None, (tmp / "service.log").read_text()
    body = (FIXTURES / "otlp" / "r04-protobuf" / "logs-001.pb").read_bytes()
    request = urllib.request.Request(f"http://127.0.0.1:{otlp_port}/v1/logs", data=body,
                                     headers={"Content-Type": "application/x-protobuf"})  # fmt: skip
    assert urllib.request.urlopen(request, timeout=30).status == 200
    yield {"proc": proc, "data": data, "url": url, "tmp": tmp, "env": env}
    proc.terminate()
    proc.wait(20)


def test_a_service_on_other_ports_is_found_from_its_data_folder(service):
    assert json.loads((service["data"] / "service.json").read_text())["api_url"] == service["url"]
    out = cli("usage", "--data-dir", str(service["data"]), "--json", env=service["env"])
    assert out.returncode == 0, out.stderr
    api = json.load(urllib.request.urlopen(service["url"] + "/api/v1/usage", timeout=10))
    assert json.loads(out.stdout)["totals"] == api["totals"] and api["totals"]["requests"] > 0
    assert out.stderr == ""


def test_a_service_that_does_not_answer_is_one_line(service):
    proc = service["proc"]
    os.kill(proc.pid, signal.SIGSTOP)  # alive, holding the folder, not answering
    try:
        t0 = time.monotonic()
        out = cli("usage", "--data-dir", str(service["data"]), env=service["env"])
        assert time.monotonic() - t0 < 20
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "does not answer" in out.stderr and str(proc.pid) in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_an_unreachable_api_url_is_one_line_and_creates_nothing(tmp_path, how):
    closed = f"http://127.0.0.1:{free_port()}"
    env = clean_env(tmp_path, **({"CCTELEMETRY_API_URL": closed} if how == "environment" else {}))
    args = ("usage", "--api-url", closed) if how == "flag" else ("usage",)
    out = cli(*args, env=env)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and f"the cctelemetry service at {closed} does not answer" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "xdg-data" / "cctelemetry").exists()  # no empty store in the default folder


def test_a_mistyped_data_dir_is_an_error_not_a_new_store(tmp_path):
    typo = tmp_path / "no-such-folder"
    out = cli("sessions", "--data-dir", str(typo), env=clean_env(tmp_path))
    assert out.returncode == 1 and "no cctelemetry data in" in out.stderr and str(typo) in out.stderr
    assert not typo.exists()
    out = cli("migrate", "--data-dir", str(typo), env=clean_env(tmp_path))  # the one command that creates
    assert out.returncode == 0 and "created a new store" in out.stdout


def test_a_local_command_says_which_store_and_nothing_on_stderr(tmp_path):
    data = tmp_path / "local"
    env = clean_env(tmp_path)
    assert cli("migrate", "--data-dir", str(data), env=env).returncode == 0
    out = cli("usage", "--by", "model", "--data-dir", str(data), env=env)
    assert out.returncode == 0 and out.stderr == ""
    assert f"data in chdb://{data}" in out.stdout
    out = cli("sql", "SELECT count() AS n FROM requests", "--json", "--data-dir", str(data), env=env)
    assert out.returncode == 0 and out.stderr == "" and json.loads(out.stdout)["rows"] == [{"n": 0}]


# What a report from a running service must not load: pydantic and the settings model, the engine, the web app.
# Measured as modules, not milliseconds, so it holds on a busy machine; make bench measures the wall time.
HEAVY = ("pydantic", "pydantic_settings", "chdb", "clickhouse_connect", "fastapi", "starlette", "grpc")
PROBE = f"""
import sys
from cctelemetry.cli.main import app
sys.argv = ["cctelemetry", *sys.argv[1:]]
try:
    app()
except SystemExit:
    pass
print("LOADED", sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r})))
"""


@pytest.mark.parametrize("how", ["data-dir", "api-url", "dotenv"])
def test_a_report_from_a_running_service_loads_no_settings_model_nor_engine(service, tmp_path, how):
    env, cwd = dict(service["env"]), None
    args = ["usage", "--by", "day", "--json"]
    if how == "data-dir":
        args += ["--data-dir", str(service["data"])]
    elif how == "api-url":
        args += ["--api-url", service["url"]]
    else:  # the data folder from a .env file in the working directory, as the settings read it
        (tmp_path / ".env").write_text(f"cctelemetry_data_dir={service['data']}\n")
        cwd = tmp_path
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, cwd=cwd,
                         timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert out.returncode == 0, out.stderr
    body, loaded = out.stdout.rsplit("LOADED", 1)
    assert json.loads(body)["totals"]["requests"] > 0
    assert loaded.strip() == "[]", loaded

"""Prometheus counters survive a restart: a real ``cctelemetry serve`` receives every captured run, is scraped on the
API port and on its metrics port, stopped, started again over the same data folder, and scraped again. The usage
counters come from the store, so they are the same; the process's own health counters start again from zero. The
CLI's ``metrics`` command reads the same counters, from the service or from the store when none runs."""

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
from prometheus_client.parser import text_string_to_metric_families

from conftest import fixture_bodies, free_port

CLI = str(Path(sys.executable).with_name("cctelemetry"))
STORE_FAMILIES = ("claude_code_token_usage_tokens", "claude_code_cost_usage_USD", "cctelemetry_api_requests",
                  "cctelemetry_computed_cost_USD", "claude_code_session_count", "claude_code_lines_of_code_count",
                  "claude_code_active_time_seconds", "claude_code_code_edit_tool_decision")  # fmt: skip


def clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    env.update(XDG_DATA_HOME=str(tmp / "xdg-data"), HOME=str(tmp / "home"))
    return env


class Service:
    def __init__(self, data: Path, env: dict[str, str], log: Path):
        self.api_port, self.otlp_port, self.metrics_port = free_port(), free_port(), free_port()
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [CLI, "serve", "--data-dir", str(data), "--api-port", str(self.api_port), "--otlp-port",
                 str(self.otlp_port), "--grpc-port", "0", "--metrics-port", str(self.metrics_port)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if json.load(urllib.request.urlopen(self.url("/healthz"), timeout=2))["ok"]:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"serve did not start:\n{log.read_text()[-3000:]}")

    def url(self, path: str, port: int | None = None) -> str:
        return f"http://127.0.0.1:{port or self.api_port}{path}"

    def scrape(self, port: int | None = None) -> dict:
        text = urllib.request.urlopen(self.url("/metrics", port), timeout=30).read().decode()
        return {f.name: f for f in text_string_to_metric_families(text)}

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


def values(families: dict, names=STORE_FAMILIES) -> dict:
    out = {}
    for name in names:
        for s in families[name].samples:
            if s.name.endswith("_total"):
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def cli_metrics(data: Path, env: dict[str, str]) -> dict:
    out = subprocess.run([CLI, "metrics", "--data-dir", str(data), "--json"], capture_output=True, text=True, env=env,
                         timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return {(s["name"], tuple(sorted(s["labels"].items()))): s["value"]
            for f in json.loads(out.stdout)["families"] if f["name"] in STORE_FAMILIES
            for s in f["samples"] if s["name"].endswith("_total")}  # fmt: skip


@pytest.mark.timeout(600)
def test_counters_are_the_same_after_a_restart(tmp_path):
    data, env, log = tmp_path / "data", clean_env(tmp_path), tmp_path / "serve.log"
    first = Service(data, env, log)
    try:
        for _, signal_name, body, ctype in fixture_bodies():
            request = urllib.request.Request(first.url(f"/v1/{signal_name}", first.otlp_port), data=body,
                                             headers={"Content-Type": ctype})  # fmt: skip
            assert urllib.request.urlopen(request, timeout=30).status == 200
        totals = json.load(urllib.request.urlopen(first.url("/api/v1/usage"), timeout=30))["totals"]
        assert totals["requests"] == 26
        before = first.scrape()
        on_metrics_port = first.scrape(first.metrics_port)
        assert values(before) == values(on_metrics_port)
        costs = [v for (name, _), v in values(before).items() if name == "claude_code_cost_usage_USD_total"]
        assert sum(costs) == pytest.approx(totals["cost_usd"], abs=1e-9)
        ingested = values(before, ("cctelemetry_ingest_requests",))
        assert sum(ingested.values()) == len(list(fixture_bodies()))
        assert cli_metrics(data, env) == values(before)  # the CLI asks the running service
    finally:
        assert first.stop() == 0, log.read_text()[-3000:]

    assert cli_metrics(data, env) == values(before)  # no service: the CLI reads the store itself

    second = Service(data, env, log)
    try:
        after = second.scrape()
        assert values(after) == values(before)
        assert values(second.scrape(second.metrics_port)) == values(before)
        # the process's own counters start again (rate() sees a restart); the store's do not
        assert "cctelemetry_ingest_requests" not in after or not values(after, ("cctelemetry_ingest_requests",))
    finally:
        assert second.stop() == 0, log.read_text()[-3000:]

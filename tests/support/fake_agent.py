"""A stand-in agent CLI for ``cctelemetry run`` tests: it honours the OpenTelemetry environment the way Claude
Code does (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_RESOURCE_ATTRIBUTES, percent-encoded values), sends one
claude_code.api_request event per ``--request COST`` over OTLP/HTTP JSON, echoes stdin upper-cased to stdout,
writes a line to stderr, and exits with ``--exit CODE``. (The real Claude Code is driven in tests/e2e.)"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(__file__))
from claude_events import Request, logs_body  # noqa: E402 - found through the sys.path entry above


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--request", type=float, action="append", default=[])
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before the export (at exit)")
    args = parser.parse_args()
    sys.stdout.write(sys.stdin.read().upper())
    sys.stderr.write("fake agent: working\n")
    resource = dict(
        item.split("=", 1) for item in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(",") if "=" in item
    )
    resource = {unquote(k): unquote(v) for k, v in resource.items()}
    session = str(uuid.uuid4())
    now = time.time()

    requests = [Request(datetime.fromtimestamp(now - len(args.request) + i, UTC), session, f"req_{uuid.uuid4().hex}",
                        input_tokens=1000 + i, output_tokens=100, cost_usd=cost, user_email="ci@example.com")
                for i, cost in enumerate(args.request)]  # fmt: skip
    time.sleep(args.delay)
    if requests and os.environ.get("CLAUDE_CODE_ENABLE_TELEMETRY") == "1":
        body = json.dumps(logs_body(requests, resource)).encode()
        url = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/logs"
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=30).read()
    return args.exit


if __name__ == "__main__":
    sys.exit(main())

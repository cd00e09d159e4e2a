"""What the ingest policy (limits, prompt content, emails; ingest/policy.py) costs beside the mapping it follows.

Maps protobuf OTLP log bodies of ``--per-body`` records taken from the captured Claude Code runs (``--kind
requests``: api_request events only, the bulk of real traffic; ``--kind mixed``: every event of r10, prompts,
tool results with inputs and parameters included), then applies the default policy to the mapped rows, and
prints both times per body as JSON.

    .venv/bin/python bench/bench_policy.py [--per-body 250] [--rounds 40] [--kind requests|mixed]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from cctelemetry.ingest.mapping import TO_ROWS
from cctelemetry.ingest.policy import IngestPolicy, apply

CAPTURE = (
    Path(__file__).resolve().parents[1] / "tests/data/claude-code-2.1.197/otlp/r10-full-traces-protobuf/logs-001.pb"
)


def body(per_body: int, kind: str) -> ExportLogsServiceRequest:
    base = ExportLogsServiceRequest.FromString(CAPTURE.read_bytes())
    records = [r for r in base.resource_logs[0].scope_logs[0].log_records
               if kind == "mixed" or r.body.string_value == "claude_code.api_request"]  # fmt: skip
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.CopyFrom(base.resource_logs[0].resource)
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.CopyFrom(base.resource_logs[0].scope_logs[0].scope)
    scope_logs.log_records.extend(records[i % len(records)] for i in range(per_body))
    return request


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-body", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--kind", choices=("requests", "mixed"), default="requests")
    args = parser.parse_args()
    request = body(args.per_body, args.kind)
    t0 = time.perf_counter()
    batches = [TO_ROWS["logs"](request) for _ in range(args.rounds)]
    mapping = (time.perf_counter() - t0) / args.rounds
    policy = IngestPolicy()
    t0 = time.perf_counter()
    for batch in batches:
        apply(batch, policy)
    applied = (time.perf_counter() - t0) / args.rounds
    print(
        json.dumps(
            {
                "kind": args.kind,
                "records_per_body": args.per_body,
                "mapping_ms": round(mapping * 1000, 2),
                "policy_ms": round(applied * 1000, 2),
                "policy_share_of_mapping": round(applied / mapping, 3),
            }
        )
    )


if __name__ == "__main__":
    main()

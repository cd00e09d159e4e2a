"""Load for durability tests: OTLP/HTTP protobuf bodies of Claude Code ``api_request`` events (shaped like
Claude Code 2.1.197's, tests/data/claude-code-2.1.197), each event a request with its own ``request_id``,
so that what was stored can be counted per body and summed exactly.

Body ``i`` of a run is the session ``<run>-<i>``: its ``PER_BODY`` requests are ``req_<run>_<i>_<j>``. Every
event has the same tokens and cost, so any set of bodies sums to a known figure.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

TOKENS = {"input_tokens": 120, "output_tokens": 45, "cache_read_tokens": 3000, "cache_creation_tokens": 250}
COST_USD = 0.0125  # reported per event; exact in binary, so sums compare exactly
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def kv(key: str, value) -> KeyValue:
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


@dataclass(frozen=True)
class Load:
    run: str
    per_body: int = 20
    host: str = ""
    base_ns: int = field(default_factory=time.time_ns)

    def session(self, i: int) -> str:
        return f"{self.run}-{i}"

    def request_id(self, i: int, j: int) -> str:
        return f"req_{self.run}_{i}_{j}"

    def body(self, i: int) -> bytes:
        """The same bytes every time for the same ``i`` (a retry sends what the first attempt sent)."""
        start_ns = self.base_ns + i * self.per_body * 1_000_000
        req = ExportLogsServiceRequest()
        rl = req.resource_logs.add()
        attrs = [kv("service.name", "claude-code"), kv("service.version", "2.1.197")]
        if self.host:
            attrs.append(kv("host.name", self.host))
        rl.resource.attributes.extend(attrs)
        sl = rl.scope_logs.add()
        sl.scope.name, sl.scope.version = "com.anthropic.claude_code.events", "2.1.197"
        for j in range(self.per_body):
            at = start_ns + j * 1_000_000
            record = LogRecord(time_unix_nano=at, observed_time_unix_nano=at)
            record.body.string_value = "claude_code.api_request"
            record.attributes.extend([
                kv("session.id", self.session(i)), kv("event.name", "api_request"), kv("event.sequence", j),
                kv("model", "claude-sonnet-4-5"), kv("cost_usd", COST_USD), kv("duration_ms", 900),
                kv("request_id", self.request_id(i, j)), kv("query_source", "sdk"), kv("prompt.id", f"p-{i}"),
                *(kv(name, value) for name, value in TOKENS.items()),
            ])  # fmt: skip
            sl.log_records.append(record)
        return req.SerializeToString()

    def transcript_line(self, i: int, j: int) -> str:
        """The same request as Claude Code writes it to the session's transcript (one JSONL line, with its newline)."""
        at = self.base_ns + (i * self.per_body + j) * 1_000_000
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at // 10**9)) + f".{at // 10**6 % 1000:03d}Z"
        usage = {"input_tokens": TOKENS["input_tokens"], "output_tokens": TOKENS["output_tokens"],
                 "cache_read_input_tokens": TOKENS["cache_read_tokens"],
                 "cache_creation_input_tokens": TOKENS["cache_creation_tokens"],
                 "cache_creation": {"ephemeral_5m_input_tokens": TOKENS["cache_creation_tokens"],
                                    "ephemeral_1h_input_tokens": 0},
                 "server_tool_use": {"web_search_requests": 0}, "service_tier": "standard"}  # fmt: skip
        entry = {"parentUuid": None, "isSidechain": False, "type": "assistant", "timestamp": stamp,
                 "uuid": f"u-{self.run}-{i}-{j}", "sessionId": self.session(i), "requestId": self.request_id(i, j),
                 "cwd": "/home/dev/work", "gitBranch": "main", "version": "2.1.197",
                 "message": {"id": f"msg_{self.run}_{i}_{j}", "type": "message", "role": "assistant",
                             "model": "claude-sonnet-4-5", "content": [{"type": "text", "text": "ok"}],
                             "usage": usage}}  # fmt: skip
        return json.dumps(entry) + "\n"

    def totals(self, bodies: int) -> dict:
        """What ``bodies`` whole bodies add up to in a usage report's totals."""
        n = bodies * self.per_body
        return {"requests": n, **{name: n * value for name, value in TOKENS.items()}}

"""Claude Code ``claude_code.api_request`` events as OTLP/JSON logs bodies, the way Claude Code 2.1.197 sends
them (tests/data/claude-code-2.1.197): for tests that need requests at chosen times, by chosen people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Request:
    at: datetime
    session: str
    request_id: str
    model: str = "claude-sonnet-4-5"
    input_tokens: int = 100
    output_tokens: int = 50
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    cost_usd: float | None = None
    user_email: str = ""
    user_id: str = "u-0"
    attributes: dict[str, str] = field(default_factory=dict)


def _value(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": str(v)}


def _attrs(pairs: dict) -> list[dict]:
    return [{"key": k, "value": _value(v)} for k, v in pairs.items() if v is not None]


def logs_body(requests: list[Request], resource: dict[str, str] | None = None) -> dict:
    """One OTLP/JSON ExportLogsServiceRequest with an api_request event per request."""
    records = []
    for i, r in enumerate(requests):
        nanos = int(r.at.timestamp() * 1_000_000) * 1000
        attributes = {
            "event.name": "api_request", "event.timestamp": r.at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "event.sequence": i, "session.id": r.session, "user.id": r.user_id, "user.email": r.user_email or None,
            "model": r.model, "input_tokens": r.input_tokens, "output_tokens": r.output_tokens,
            "cache_read_tokens": r.cache_read_tokens, "cache_creation_tokens": r.cache_creation_tokens,
            "cost_usd": r.cost_usd, "duration_ms": 1000, "request_id": r.request_id, "speed": "normal",
            **r.attributes,
        }  # fmt: skip
        records.append(
            {
                "timeUnixNano": str(nanos),
                "observedTimeUnixNano": str(nanos),
                "body": {"stringValue": "claude_code.api_request"},
                "attributes": _attrs(attributes),
            }
        )
    return {"resourceLogs": [{
        "resource": {"attributes": _attrs({"service.name": "claude-code", "service.version": "2.1.197",
                                           **(resource or {})})},
        "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events", "version": "2.1.197"},
                       "logRecords": records}]}]}  # fmt: skip


def post(client, requests: list[Request], resource: dict[str, str] | None = None, chunk: int = 500) -> None:
    """Post the requests through the OTLP/HTTP receiver (a TestClient or anything with ``.post``)."""
    for i in range(0, len(requests), chunk):
        r = client.post("/v1/logs", json=logs_body(requests[i : i + chunk], resource))
        assert r.status_code == 200, r.text

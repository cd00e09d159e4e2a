"""A small fake of the Anthropic Messages API for the end-to-end tests (stdlib only).

It listens on 127.0.0.1 (port 0 = any free port) and answers:

- ``POST /v1/messages[?beta=true]``, streaming (SSE) and not. A request whose
  ``output_config.format.type`` is ``json_schema`` (Claude Code's session-title request) gets a
  JSON object as its text; anything else gets a short greeting.
- ``POST /v1/messages/count_tokens``: a fixed count.
- anything else: 404 with an Anthropic-style error body.

Usage is fixed per model family (see ``USAGE``), so every number that reaches the telemetry
service can be traced back to this file. Every response carries a unique ``request-id`` header
(``req_...``), and every call is appended to ``FakeAnthropic.calls`` so a test can compute the
totals it expects.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (input, cache_creation, cache_read, output) per model family.
USAGE = {
    "sonnet": (1234, 5678, 91011, 321),
    "haiku": (111, 222, 333, 44),
    "other": (7, 8, 9, 10),
}
COUNT_TOKENS = 4242


def family(model: str | None) -> str:
    m = (model or "").lower()
    return "sonnet" if "sonnet" in m else "haiku" if "haiku" in m else "other"


def usage_for(model: str | None) -> dict:
    inp, cache_creation, cache_read, out = USAGE[family(model)]
    return {
        "input_tokens": inp,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_creation, "ephemeral_1h_input_tokens": 0},
        "output_tokens": out,
        "service_tier": "standard",
    }


@dataclass
class Call:
    """One request the fake answered."""

    path: str  # without the query string
    kind: str  # "messages", "count_tokens" or "other"
    model: str | None = None
    stream: bool = False
    json_schema: bool = False  # output_config.format was json_schema (title generation)
    request_id: str = ""
    usage: dict = field(default_factory=dict)  # what the response reported; {} for non-messages calls
    headers: dict = field(default_factory=dict)


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        out = bytearray()
        for _ in range(1_000_000):  # bounded: at most this many chunks
            size_line = handler.rfile.readline()
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                break
            out += handler.rfile.read(size)
            handler.rfile.readline()
        return bytes(out)
    n = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(n) if n else b""


def _answer_text(body: dict) -> str:
    fmt = (body.get("output_config") or {}).get("format") or {}
    if fmt.get("type") == "json_schema":
        props = list(((fmt.get("schema") or {}).get("properties") or {}).keys()) or ["title"]
        return json.dumps({k: "Fake title" for k in props})
    return "Hi! (fake Anthropic API)"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    # -- helpers -------------------------------------------------------------------------------
    def _record(self, call: Call) -> Call:
        call.headers = {k.lower(): v for k, v in self.headers.items()}
        with self.server.lock:
            self.server.calls.append(call)
        return call

    def _send_json(self, code: int, obj: dict, request_id: str) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", request_id)
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self, path: str) -> None:
        rid = _request_id()
        self._record(Call(path=path, kind="other", request_id=rid))
        self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "fake api"}}, rid)

    # -- verbs ---------------------------------------------------------------------------------
    def do_GET(self):
        self._not_found(self.path.split("?")[0])

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        path = self.path.split("?")[0]
        raw = _read_body(self)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        rid = _request_id()
        if path == "/v1/messages/count_tokens":
            self._record(Call(path=path, kind="count_tokens", model=body.get("model"), request_id=rid))
            return self._send_json(200, {"input_tokens": COUNT_TOKENS}, rid)
        if path != "/v1/messages":
            return self._not_found(path)

        model = body.get("model")
        usage = usage_for(model)
        text = _answer_text(body)
        fmt = (body.get("output_config") or {}).get("format") or {}
        self._record(
            Call(
                path=path,
                kind="messages",
                model=model,
                stream=bool(body.get("stream")),
                json_schema=fmt.get("type") == "json_schema",
                request_id=rid,
                usage=usage,
            )
        )
        message = {
            "id": "msg_" + uuid.uuid4().hex[:24],
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }
        if not body.get("stream"):
            return self._send_json(200, message, rid)
        self._stream(message, rid)

    def _stream(self, message: dict, rid: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("request-id", rid)
        self.send_header("Connection", "close")  # no length: the body ends when the connection does
        self.end_headers()
        self.close_connection = True

        def event(name: str, data: dict) -> None:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        usage = message["usage"]
        text = message["content"][0]["text"]
        start = dict(message, content=[], stop_reason=None, usage=dict(usage, output_tokens=1))
        event("message_start", {"type": "message_start", "message": start})
        event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        event("ping", {"type": "ping"})
        for i, word in enumerate(text.split(" ")):
            event(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": word if i == 0 else " " + word},
                },
            )
        event("content_block_stop", {"type": "content_block_stop", "index": 0})
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
        event("message_stop", {"type": "message_stop"})


def _request_id() -> str:
    return "req_" + uuid.uuid4().hex


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr):
        super().__init__(addr, _Handler)
        self.lock = threading.Lock()
        self.calls: list[Call] = []


class FakeAnthropic:
    """``with FakeAnthropic() as api: ... api.url ... api.message_calls()``"""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._server = _Server((host, port))
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-anthropic", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def calls(self) -> list[Call]:
        with self._server.lock:
            return list(self._server.calls)

    def message_calls(self) -> list[Call]:
        return [c for c in self.calls if c.kind == "messages"]

    def reset(self) -> None:
        with self._server.lock:
            self._server.calls.clear()

    def start(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":  # manual use: python tests/e2e/fake_anthropic.py [port] [seconds]
    import sys
    import time

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 600.0
    with FakeAnthropic(port=port) as api:
        print(f"fake Anthropic API on {api.url} for {seconds:.0f} s", flush=True)
        time.sleep(seconds)
